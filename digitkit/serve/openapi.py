"""A hand-written OpenAPI 3 description of the API, served at ``GET /openapi.json``."""

from __future__ import annotations

from typing import Any

from digitkit import __version__
from digitkit.serve.limits import Limits


def _error(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def document(limits: Limits) -> dict[str, Any]:
    """The OpenAPI document, with the server's actual limits in the descriptions.

    Each section (:func:`api_section`, :func:`oip_section`, :func:`operations_section`) gives
    its paths and schemas; a new route adds a section here.
    """
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {"Error": {
        "type": "object", "required": ["error"], "additionalProperties": False,
        "properties": {"error": {"type": "string", "pattern": "^[^\\n]*$"},
                       "failures": {"type": "array", "description": "POST /api/predict: why each input failed",
                                    "items": {"$ref": "#/components/schemas/Failure"}}}},
        "Failure": {"type": "object", "required": ["input", "error"], "properties": {
            "input": {"type": "string"}, "error": {"type": "string"}}}}
    for section in (api_section, read_section, oip_section, operations_section):
        more_paths, more_schemas = section(limits)
        paths.update(more_paths)
        schemas.update(more_schemas)
    for item in paths.values():
        for operation in item.values():
            for status, answer in COMMON_RESPONSES.items():
                operation["responses"].setdefault(status, dict(answer))
            for answer in operation["responses"].values():
                answer.setdefault("headers", {})["X-Request-Id"] = REQUEST_ID_HEADER
    return {
        "openapi": "3.1.0",
        "info": {"title": "digitkit serve", "version": __version__,
                 "description": "Predict handwritten digits with a digitkit model. Only requests whose Host "
                                "header names the server's own address (or a name given with --allow-host) "
                                "are answered."},
        "paths": paths,
        "components": {"schemas": schemas},
    }


REQUEST_ID_HEADER = {"description": "This answer's id, also in the server's log", "schema": {"type": "string"}}
COMMON_RESPONSES = {
    "400": _error("A malformed request: no valid Host header, bad options or body"),
    "421": _error("The Host header names a host this server does not answer for"),
    "500": _error("A bug: the message carries the request id the server's log has"),
}


def api_section(limits: Limits) -> tuple[dict[str, Any], dict[str, Any]]:
    """``/api/predict`` and ``/api/models``: the JSON API the page uses."""
    megabytes = f"{limits.max_body_bytes / (1024 * 1024):g} MB"
    option = lambda name, schema, text: {"name": name, "in": "query", "required": False,  # noqa: E731
                                         "schema": schema, "description": text}
    paths = {
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
                option("explain", {"type": "boolean", "default": False},
                       "Add `panels` to each prediction: the picture as found (picture; for a photo "
                       "also paper, ink, crop), as PNG data URLs at most 96 px a side, as "
                       "`digitkit predict --show` draws them."),
                option("preprocess", {"type": "boolean", "default": True},
                       "false: only resize to 28x28, for images already in MNIST form (white on black, "
                       "centred), as `digitkit predict --no-preprocess`."),
                option("name", {"type": "string"}, "The input's name for a raw image body."),
            ],
            "requestBody": {"required": True, "content": {
                "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                    "file": {"type": "array", "minItems": 1, "maxItems": limits.max_files,
                             "items": {"type": "string", "format": "binary"}},
                    "top_k": {"type": "integer", "minimum": 1, "maximum": 10}, "model": {"type": "string"}}}},
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
    }
    schemas = {
        "ModelInfo": {"type": "object", "properties": {
            "name": {"type": "string"}, "run": {"type": ["string", "null"]},
            "path": {"type": "string"}, "backend": {"type": "string", "enum": ["litert", "keras"]}}},
        "Prediction": {"type": "object", "properties": {
            "input": {"type": "string"}, "digit": {"type": ["integer", "null"]}, "best": {"type": "integer"},
            "confidence": {"type": "number"},
            "top_k": {"type": "array", "items": {"type": "object", "properties": {
                "digit": {"type": "integer"}, "probability": {"type": "number"}}}},
            "probabilities": {"type": "array", "items": {"type": "number"}, "minItems": 10, "maxItems": 10},
            "image": {"type": "string", "description": "Only with image=1: a PNG data URL"},
            "panels": {"type": "array", "description": "Only with explain=1: the picture as found",
                       "items": {"type": "object", "properties": {
                           "caption": {"type": "string", "enum": ["picture", "paper", "ink", "crop"]},
                           "image": {"type": "string"}}}}}},
        "PredictResult": {"type": "object", "properties": {
            "model": {"$ref": "#/components/schemas/ModelInfo"},
            "min_confidence": {"type": ["number", "null"]},
            "predictions": {"type": "array", "items": {"$ref": "#/components/schemas/Prediction"}},
            "failures": {"type": "array", "items": {"$ref": "#/components/schemas/Failure"}}}},
        "Models": {"type": "object", "properties": {
            "default": {"$ref": "#/components/schemas/ModelInfo"},
            "models": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string"}, "model": {"type": "string"},
                "kind": {"type": "string", "enum": ["run", "pretrained"]},
                "label": {"type": ["string", "null"]}, "created": {"type": ["string", "null"]},
                "accuracy": {"type": ["number", "null"]}}}}}},
    }
    return paths, schemas


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def read_section(limits: Limits) -> tuple[dict[str, Any], dict[str, Any]]:
    """``POST /api/read``: whole numbers, the JSON of ``digitkit read --json``."""
    from digitkit.serve.reading import openapi_path, openapi_schemas

    option = lambda name, schema, text: {"name": name, "in": "query", "required": False,  # noqa: E731
                                         "schema": schema, "description": text}
    return {"/api/read": openapi_path(limits, option, _error)}, openapi_schemas()


def oip_section(limits: Limits) -> tuple[dict[str, Any], dict[str, Any]]:
    """The Open Inference Protocol (KServe v2): health, model metadata, inference."""
    ref = lambda name: {"$ref": f"#/components/schemas/{name}"}  # noqa: E731
    name = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"},
            "description": "A name GET /api/models lists (run id, model name, NAME@pretrained)"}
    version = {"name": "version", "in": "path", "required": True, "schema": {"type": "string"},
               "description": "Only 1"}
    unknown = _error("Unknown model or version")
    paths: dict[str, Any] = {
        "/v2": {"get": {"summary": "Server metadata", "responses": {"200": _json("Metadata", ref("ServerMetadata"))}}},
        "/v2/health/live": {"get": {"summary": "Liveness", "responses": {
            "200": _json("Live", {"type": "object", "properties": {"live": {"type": "boolean"}}})}}},
        "/v2/health/ready": {"get": {"summary": "Readiness: the default model is loaded", "responses": {
            "200": _json("Ready", {"type": "object", "properties": {"ready": {"type": "boolean"}}})}}},
    }
    infer = {
        "summary": "Predict: FP32 tensors of the model's input shape, or BYTES image files",
        "description": f"One input: FP32 of shape [N, *input] with values in [0, 1] (MNIST form: white on black), "
                       f"or BYTES of shape [N], each an image file (base64 in JSON), preprocessed like "
                       f"uploads. 1 <= N <= {limits.max_files}. Tensors may also travel in the binary extension "
                       "(Inference-Header-Content-Length). The output `probabilities` is FP32 [N, 10].",
        "requestBody": {"required": True, "content": {"application/json": {"schema": ref("InferenceRequest")}}},
        "responses": {
            "200": {"description": "Probabilities", "content": {
                "application/json": {"schema": ref("InferenceResponse")},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
            "400": _error("Not a valid inference request for this model"), "404": unknown,
            "413": _error(f"Larger than {limits.max_body_bytes / (1024 * 1024):g} MB or more than "
                          f"{limits.max_files} inputs"),
            "422": _error("The model was refused (broken or unsafe)"),
            "503": _error("Too many requests in progress; retry after the Retry-After header"),
            "504": _error(f"The request took longer than {limits.timeout_s:g} s"),
        },
    }
    for base, parameters in (("/v2/models/{name}", [name]), ("/v2/models/{name}/versions/{version}", [name, version])):
        paths[base] = {"get": {"summary": "Model metadata: its input and output tensors", "parameters": parameters,
                               "responses": {"200": _json("Metadata", ref("ModelMetadata")), "404": unknown,
                                             "422": _error("The model was refused (broken or unsafe)")}}}
        paths[base + "/ready"] = {"get": {"summary": "Whether the model is ready", "parameters": parameters,
                                          "responses": {"200": _json("Ready", {"type": "object", "properties": {
                                              "name": {"type": "string"}, "ready": {"type": "boolean"}}}),
                                              "404": unknown, "422": _error("The model was refused")}}}
        paths[base + "/infer"] = {"post": {**infer, "parameters": parameters}}
    tensor = {"type": "object", "required": ["name", "datatype", "shape"], "properties": {
        "name": {"type": "string"}, "datatype": {"type": "string"},
        "shape": {"type": "array", "items": {"type": "integer", "minimum": -1}}}}
    schemas = {
        "ServerMetadata": {"type": "object", "properties": {
            "name": {"type": "string"}, "version": {"type": "string"},
            "extensions": {"type": "array", "items": {"type": "string"}}}},
        "ModelMetadata": {"type": "object", "properties": {
            "name": {"type": "string"}, "versions": {"type": "array", "items": {"type": "string"}},
            "platform": {"type": "string"}, "inputs": {"type": "array", "items": tensor},
            "outputs": {"type": "array", "items": tensor}}},
        "InferenceRequest": {"type": "object", "required": ["inputs"], "properties": {
            "id": {"type": "string"},
            "inputs": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
                "type": "object", "required": ["name", "shape", "datatype", "data"], "properties": {
                    "name": {"type": "string"},
                    "shape": {"type": "array", "minItems": 1, "prefixItems": [
                        {"type": "integer", "minimum": 1, "maximum": limits.max_files}],
                        "items": {"type": "integer", "minimum": 0}},
                    "datatype": {"type": "string", "enum": ["FP32", "BYTES"]},
                    "data": {"type": "array"}, "parameters": {"type": "object"}}}},
            "outputs": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
            "parameters": {"type": "object"}}},
        "InferenceResponse": {"type": "object", "required": ["model_name", "outputs"], "properties": {
            "model_name": {"type": "string"}, "model_version": {"type": "string"}, "id": {"type": "string"},
            "outputs": {"type": "array", "items": {"type": "object", "properties": {
                "name": {"type": "string"}, "datatype": {"type": "string"},
                "shape": {"type": "array", "items": {"type": "integer"}},
                "data": {"type": "array", "items": {"type": "number"}}}}}}},
    }
    return paths, schemas


def operations_section(limits: Limits) -> tuple[dict[str, Any], dict[str, Any]]:
    """Health, metrics, and this document."""
    return {
        "/healthz": {"get": {"summary": "Liveness, the default model and the load", "responses": {
            "200": _json("OK", {"type": "object", "required": ["status"], "properties": {
                "status": {"type": "string"}, "model": {"$ref": "#/components/schemas/ModelInfo"},
                "pending": {"type": "integer"}, "max_pending": {"type": "integer"}}})}}},
        "/metrics": {"get": {"summary": "Prometheus metrics (text format)", "responses": {
            "200": {"description": "Metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/openapi.json": {"get": {"summary": "This document", "responses": {
            "200": _json("OpenAPI 3.1", {"type": "object"})}}},
    }, {}
