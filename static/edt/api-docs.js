// Starts Swagger UI on the EDT OpenAPI document named by this script's data-url.
(function () {
  var url = document.currentScript.getAttribute("data-url");
  window.SwaggerUIBundle({ url: url, dom_id: "#swagger-ui", deepLinking: true });
})();
