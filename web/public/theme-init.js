// Applied before first paint so a remembered theme never flashes the other one. An external file,
// not an inline script: the gateway's CSP is `script-src 'self'`.
(function () {
  var theme;
  try {
    theme = localStorage.getItem('conclave.theme');
  } catch (e) {
    theme = null; // storage blocked (private mode): follow the system
  }
  if (theme !== 'dark' && theme !== 'light') {
    theme = window.matchMedia && window.matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
  }
  document.documentElement.dataset.theme = theme;
})();
