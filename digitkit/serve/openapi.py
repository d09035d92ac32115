"""A hand-written OpenAPI 3 description of the API, served at ``GET /openapi.json``."""

from __future__ import annotations

from typing import Any

from digitkit import __version__
from digitkit.serve.limits import Limits


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def document(limits: Limits) -> dict[str, Any]:
    """The OpenAPI document, with the server's actual limits in the descriptions."""
    megabytes = f"{limits.max_body_bytes / (1024 * 1024):g} MB"
    option = lambda name, schema, text: {"name": name, "in": "query", "required": False,  # noqa: E731
                                         "schema": schema, "description": text}
    spec = {
        "openapi": "3.1.0",
        "info": {"title": "digitkit serve", "version": __version__,
                 "description": "Predict handwritten digits with a digitkit model."},
        "paths": {
            "/api/predict": {"post": {
                "summary": "Predict the digit in one or more images",
                "description": f"Send image files as multipart/form-data (any field name, at most "
                               f"{limits.max_files} files) or one image as the raw body. At most {megabytes} "
                               f"per request and {limits.timeout_s:g} s. The answer is what "
                               "`digitkit predict --json` prints; inputs that could not be read are listed "
                               "under `failures`.",
                "parameters": [
                    option("top_k", {"type": "integer", "minimum": 1, "maximum": 10, "default": 3},
                           "How many digits to rank per image (also accepted as a form field)."),
                    option("model", {"type": "string"},
                           "A run id or model name from GET /api/models (default: the server's model)."),
                    option("image", {"type": "boolean", "default": False},
                           "Add `image`, the 28x28 input the model saw, as a PNG data URL."),
                    option("preprocess", {"type": "boolean", "default": True},
                           "false: only resize to 28x28, for images already in MNIST form (white on black, "
                           "centred), as `digitkit predict --no-preprocess`."),
                    option("name", {"type": "string"}, "The input's name for a raw image body."),
                ],
                "requestBody": {"required": True, "content": {
                    "multipart/form-data": {"schema": {"type": "object", "properties": {
                        "file": {"type": "array", "items": {"type": "string", "format": "binary"}},
                        "top_k": {"type": "integer"}, "model": {"type": "string"}}}},
                    "image/*": {"schema": {"type": "string", "format": "binary"}},
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                }},
                "responses": {
                    "200": {"description": "Predictions", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/PredictResult"}}}},
                    "400": _error("No image could be read, a malformed form, or a bad option"),
                    "404": _error("Unknown model"),
                    "413": _error(f"Request larger than {megabytes} or more than {limits.max_files} files"),
                    "415": _error("Not multipart/form-data, not an image"),
                    "422": _error("The model was refused (broken or unsafe)"),
                    "503": _error("Too many requests in progress; retry after the Retry-After header"),
                    "504": _error(f"The request took longer than {limits.timeout_s:g} s"),
                },
            }},
            "/api/models": {"get": {
                "summary": "Models this server can use: the home's completed runs and pretrained models",
                "responses": {"200": {"description": "Models", "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Models"}}}}},
            }},
            "/healthz": {"get": {"summary": "Liveness, the default model and the load",
                                 "responses": {"200": {"description": "OK"}}}},
        },
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
            "ModelInfo": {"type": "object", "properties": {
                "name": {"type": "string"}, "run": {"type": ["string", "null"]},
                "path": {"type": "string"}, "backend": {"type": "string", "enum": ["litert", "keras"]}}},
            "Prediction": {"type": "object", "properties": {
                "input": {"type": "string"}, "digit": {"type": ["integer", "null"]}, "best": {"type": "integer"},
                "confidence": {"type": "number"},
                "top_k": {"type": "array", "items": {"type": "object", "properties": {
                    "digit": {"type": "integer"}, "probability": {"type": "number"}}}},
                "probabilities": {"type": "array", "items": {"type": "number"}, "minItems": 10, "maxItems": 10},
                "image": {"type": "string", "description": "Only with image=1: a PNG data URL"}}},
            "PredictResult": {"type": "object", "properties": {
                "model": {"$ref": "#/components/schemas/ModelInfo"},
                "min_confidence": {"type": ["number", "null"]},
                "predictions": {"type": "array", "items": {"$ref": "#/components/schemas/Prediction"}},
                "failures": {"type": "array", "items": {"type": "object", "properties": {
                    "input": {"type": "string"}, "error": {"type": "string"}}}}}},
            "Models": {"type": "object", "properties": {
                "default": {"$ref": "#/components/schemas/ModelInfo"},
                "models": {"type": "array", "items": {"type": "object", "properties": {
                    "id": {"type": "string"}, "model": {"type": "string"},
                    "kind": {"type": "string", "enum": ["run", "pretrained"]},
                    "label": {"type": ["string", "null"]}, "created": {"type": ["string", "null"]},
                    "accuracy": {"type": ["number", "null"]}}}}}},
        }},
    }
    from digitkit.serve.reading import openapi_path, openapi_schemas

    spec["paths"]["/api/read"] = openapi_path(limits, option, _error)
    spec["components"]["schemas"].update(openapi_schemas())
    return spec
