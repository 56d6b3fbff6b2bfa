# syntax=docker/dockerfile:1
# One image for every Conclave service. docker-compose.yml picks the process with `command`:
#   node services/<gateway|orchestrator|llm-worker|judge|projector>/dist/main.js
#   node scripts/setup.mjs   (one-shot: migrations, streams and consumers, built-in templates)
# Build alone: docker build -t conclave:local .
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- manifests: only what `npm install` reads, so the install layer stays cached until a
# package.json or the lock file changes (a source edit only re-runs the build).
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir /manifests \
 && find . -name node_modules -prune -o \( -name package.json -o -name package-lock.json \) -print \
    | xargs cp --parents -t /manifests

# ---- build: every workspace's dependencies, then `npm run build` (tsc -b for libs and services,
# vite build for the dashboard), then drop the dev dependencies.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV CI=true NX_DAEMON=false NX_NO_CLOUD=true
COPY --from=manifests /manifests/ ./
# `npm install`, not `npm ci`: it fills in the platform's optional native packages (@swc/core,
# rolldown, …) that a lock file written on another OS may lack (STACK-NOTES.md).
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: built output and production dependencies, same layout as the repository
# (services resolve @conclave/* through the workspace links in node_modules, the gateway serves
# web/dist, setup reads templates/builtin).
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/libs ./libs
COPY --from=build /app/services ./services
COPY --from=build /app/web ./web
COPY --from=build /app/scripts ./scripts
COPY --from=build /app/templates ./templates
# git for the run branches and worktrees, bubblewrap for the tool sandbox (README "The sandbox")
RUN apt-get update \
 && apt-get install -y --no-install-recommends git bubblewrap ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# writable state (agent workspaces, local data) for the unprivileged user
RUN mkdir -p /app/.conclave/workspaces /repos && chown -R node:node /app/.conclave /repos
USER node
EXPOSE 3000
CMD ["node", "services/gateway/dist/main.js"]
