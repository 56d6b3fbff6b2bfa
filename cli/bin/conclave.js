#!/usr/bin/env node
// The `conclave` command: the compiled CLI (npm run build compiles cli/src to cli/dist).
require("../dist/main.js");
