// The API reference: Swagger UI (vendored, see swagger-ui/VENDORED.md) on this service's
// OpenAPI document. Relative URLs, so the page also works behind a path prefix.
"use strict";
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "openapi.json",
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    deepLinking: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    defaultModelExpandDepth: 2,
    displayOperationId: false,
    displayRequestDuration: true,
    filter: true,
    showExtensions: false,
    showCommonExtensions: true,
    tryItOutEnabled: false,
    persistAuthorization: false,
    validatorUrl: null,  // no call to an online validator: nothing leaves this origin
    syntaxHighlight: { activated: true, theme: "agate" },
  });
});
