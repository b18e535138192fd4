// Starts Swagger UI (#swagger-ui) or ReDoc (#redoc) on this app's OpenAPI document, from the vendored
// bundles (static/vendor): no inline script, no other host (the schema validator badge is switched off).
(function () {
  "use strict";
  function start() {
    var swagger = document.getElementById("swagger-ui");
    if (swagger && typeof SwaggerUIBundle !== "undefined") {
      window.ui = SwaggerUIBundle({
        url: swagger.dataset.openapiUrl,
        dom_id: "#swagger-ui",
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
        layout: "BaseLayout",
        deepLinking: true,
        showExtensions: true,
        validatorUrl: null
      });
    }
    var redoc = document.getElementById("redoc");
    if (redoc && typeof Redoc !== "undefined") {
      Redoc.init(redoc.dataset.openapiUrl, { hideDownloadButton: false }, redoc);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
