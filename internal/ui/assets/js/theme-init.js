// Applies the saved theme before the first paint, so the page does not flash.
(function () {
  var t = null;
  try { t = localStorage.getItem('otlpd.theme'); } catch (e) { /* storage disabled */ }
  if (!t) t = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  document.documentElement.dataset.theme = t;
})();
