"""OpenAPI descriptions of the gateway's authentication schemes (drf-spectacular)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class DepartmentKeyScheme(OpenApiAuthenticationExtension):
    target_class = "gateway.api.authentication.DepartmentKeyAuthentication"
    name = "DepartmentApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A department key, sent as `Api-Key <key>`.",
        }
