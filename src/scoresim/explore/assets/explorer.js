/* The explorer's own script (served by the app, like everything the page loads). */
window.dash_clientside = Object.assign({}, window.dash_clientside, {
  explorer: {
    /* the address follows the setting, so that it can be shared */
    address: function (data) {
      if (data && data.query !== undefined) {
        window.history.replaceState(null, "", "?" + data.query);
      }
      return window.dash_clientside.no_update;
    },
  },
});

/* each chart's SVG and PNG buttons: Plotly draws the file in the browser */
document.addEventListener("click", function (event) {
  const button = event.target.closest("button.figdl");
  if (!button) {
    return;
  }
  const plot = document.querySelector("#" + button.dataset.figure + " .js-plotly-plot");
  if (!plot || !window.Plotly) {
    return;
  }
  window.Plotly.downloadImage(plot, {
    format: button.dataset.format,
    filename: button.dataset.figure.replace(/^fig-/, ""),
    width: 1100,
    height: Math.max(plot.offsetHeight, 360),
  });
});
