// Stylesheets imported by components mean nothing to jsdom: jest maps them here (jest.config.js).
module.exports = {};
