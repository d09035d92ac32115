"""The Open Inference Protocol (KServe v2, Triton's HTTP/REST API), which other tools speak.

- ``GET /v2``, ``/v2/health/live``, ``/v2/health/ready``: server metadata and health;
- ``GET /v2/models/{name}`` and ``/v2/models/{name}/ready``: a model's tensors, readiness;
- ``POST /v2/models/{name}/infer``: one input, either ``FP32`` of shape
  ``[N, *model input]`` (e.g. ``[N, 28, 28, 1]``) with values in [0, 1], or ``BYTES`` of
  shape ``[N]``, each element an image file (preprocessed like an upload); the answer is
  one ``FP32`` output, ``probabilities``, of shape ``[N, 10]``.

Tensors travel as JSON, or in the binary extension that ``tritonclient`` uses by default:
a JSON header of ``Inference-Header-Content-Length`` bytes followed by the raw tensors
(``binary_data_size`` per tensor; BYTES elements each prefixed by a 4-byte little-endian
length). ``{name}`` is any name ``GET /api/models`` lists; a ``versions/{version}``
segment is accepted for version ``1`` only.
"""

from __future__ import annotations

import base64
import json
import math
import struct
from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from digitkit import __version__
from digitkit.serve import engine as engines
from digitkit.serve.app import Service, gated, json_response
from digitkit.serve.uploads import RequestProblem

OUTPUT = "probabilities"
VERSION = "1"
HEADER_LENGTH = "inference-header-content-length"
MAX_HEADER_BYTES = 64 * 1024


def routes() -> list[Route]:
    model = "/v2/models/{name}"
    versioned = model + "/versions/{version}"
    return [
        Route("/v2", server_metadata, methods=["GET"]),
        Route("/v2/health/live", live, methods=["GET"]),
        Route("/v2/health/ready", ready, methods=["GET"]),
        *[Route(base, model_metadata, methods=["GET"]) for base in (model, versioned)],
        *[Route(base + "/ready", model_ready, methods=["GET"]) for base in (model, versioned)],
        *[Route(base + "/infer", infer, methods=["POST"]) for base in (model, versioned)],
    ]


async def server_metadata(request: Request) -> Response:
    return json_response({"name": "digitkit", "version": __version__, "extensions": ["binary_tensor_data"]})


async def live(request: Request) -> Response:
    return json_response({"live": True})


async def ready(request: Request) -> Response:
    return json_response({"ready": True})  # the default model loads before the port answers


def _engine(request: Request):
    """The engine the path names; only already-loaded models answer without the gate."""
    service: Service = request.app.state.service
    version = request.path_params.get("version")
    if version is not None and version != VERSION:
        raise RequestProblem(404, f"model {request.path_params['name'][:60]!r} has no version "
                                  f"{version[:20]!r} (only {VERSION})")
    return service.models.get(request.path_params["name"])


async def model_metadata(request: Request) -> Response:
    async def prepare(request: Request, body: bytes):
        return _metadata_job, (request,)  # may load a model: under the gate, on the pool

    return await gated(request, prepare)


def _metadata_job(request: Request) -> Response:
    engine = _engine(request)
    return json_response({
        "name": request.path_params["name"], "versions": [VERSION], "platform": f"digitkit_{engine.info['backend']}",
        "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, *engine.input_shape]},
                   {"name": "image", "datatype": "BYTES", "shape": [-1]}],
        "outputs": [{"name": OUTPUT, "datatype": "FP32", "shape": [-1, 10]}],
    })


async def model_ready(request: Request) -> Response:
    response = await model_metadata(request)
    if response.status_code != 200:
        return response
    return json_response({"name": request.path_params["name"], "ready": True})


async def infer(request: Request) -> Response:
    service: Service = request.app.state.service

    async def prepare(request: Request, body: bytes):
        # Parsing a large JSON body takes a while: on the pool, not the event loop.
        return _infer_job, (service, request.path_params.get("name"), request.path_params.get("version"),
                            request.headers.get(HEADER_LENGTH), body)

    return await gated(request, prepare)


def parse_infer(header_length: str | None, body: bytes, max_batch: int) -> tuple[dict, np.ndarray | list[bytes], bool]:
    """The request's JSON, its one input (an FP32 array or a list of image files), and whether
    the answer should be binary.

    Raises:
        RequestProblem: 400 for anything that is not a valid inference request.
    """
    if header_length is not None:
        if not header_length.isdigit() or int(header_length) > min(len(body), MAX_HEADER_BYTES):
            raise RequestProblem(400, "the Inference-Header-Content-Length header does not fit the body")
        header, binary = body[:int(header_length)], body[int(header_length):]
    else:
        header, binary = body, b""
    try:
        request = json.loads(header)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise RequestProblem(400, "the inference request is not valid JSON") from None
    if not isinstance(request, dict) or not isinstance(request.get("inputs"), list) or len(request["inputs"]) != 1:
        raise RequestProblem(400, "expected an inference request with exactly one input "
                                  "({\"inputs\": [{\"name\", \"shape\", \"datatype\", \"data\"}]})")
    tensor = request["inputs"][0]
    if not isinstance(tensor, dict) or not isinstance(tensor.get("name"), str):
        raise RequestProblem(400, "expected the input to be an object with name, shape, datatype and data")
    for where, value, kind in [("the request's id", request.get("id", ""), str),
                               ("the request's parameters", request.get("parameters", {}), dict),
                               ("the request's outputs", request.get("outputs", []), list),
                               ("the input's parameters", tensor.get("parameters", {}), dict)]:
        if not isinstance(value, kind):
            raise RequestProblem(400, f"expected {where} to be a JSON {_JSON_TYPES[kind]}")
    shape = tensor.get("shape")
    if not isinstance(shape, list) or not shape or not all(isinstance(n, int) and not isinstance(n, bool)
                                                          and 0 <= n for n in shape):
        raise RequestProblem(400, "expected the input's shape to be a list of non-negative integers")
    if not 1 <= shape[0] <= max_batch:
        raise RequestProblem(400 if shape[0] < 1 else 413,
                             f"expected 1 to {max_batch} inputs in one request. Received: shape[0]={shape[0]}")
    datatype = tensor.get("datatype")
    parameters = tensor.get("parameters") if isinstance(tensor.get("parameters"), dict) else {}
    raw = _binary_part(parameters, binary)
    if datatype == "FP32":
        data = _fp32(tensor, shape, raw)
    elif datatype == "BYTES":
        data = _images(tensor, shape, raw)
    else:
        raise RequestProblem(400, "expected datatype FP32 (the model's input) or BYTES (image files). "
                                  f"Received: datatype={str(datatype)[:20]!r}")
    return request, data, _binary_answer(request)


_JSON_TYPES = {str: "string", dict: "object", list: "array"}


def _binary_part(parameters: dict, binary: bytes) -> bytes | None:
    size = parameters.get("binary_data_size")
    if size is None:
        return None
    if not isinstance(size, int) or isinstance(size, bool) or size != len(binary):
        raise RequestProblem(400, "the input's binary_data_size does not match the bytes after the JSON header")
    return binary


def _fp32(tensor: dict, shape: list[int], raw: bytes | None) -> np.ndarray:
    count = math.prod(shape)
    if raw is not None:
        if len(raw) != 4 * count:
            raise RequestProblem(400, f"expected {4 * count} bytes of FP32 data for shape {shape}. "
                                      f"Received: {len(raw)}")
        array = np.frombuffer(raw, "<f4").astype(np.float32)
    else:
        array = _json_numbers(tensor.get("data"), count)
    return array.reshape(shape)


def _json_numbers(data: Any, count: int) -> np.ndarray:
    if isinstance(data, list) and data and isinstance(data[0], list):  # nested lists are allowed
        flat: list = []
        stack = [data]
        while stack and len(flat) <= count:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            else:
                flat.append(item)
        data = flat
    if not isinstance(data, list) or len(data) != count or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in data):
        raise RequestProblem(400, f"expected data to hold {count} numbers, as the shape says")
    return np.asarray(data, np.float32)


def _images(tensor: dict, shape: list[int], raw: bytes | None) -> list[bytes]:
    if len(shape) != 1:
        raise RequestProblem(400, f"expected BYTES of shape [N], one image file each. Received: shape={shape}")
    if raw is not None:
        images, offset = [], 0
        while offset < len(raw):
            if offset + 4 > len(raw):
                raise RequestProblem(400, "the BYTES data ends inside an element's length")
            (length,) = struct.unpack_from("<I", raw, offset)
            images.append(raw[offset + 4:offset + 4 + length])
            offset += 4 + length
            if offset > len(raw) or len(images) > shape[0]:
                raise RequestProblem(400, f"expected {shape[0]} length-prefixed images in the BYTES data")
    else:
        data = tensor.get("data")
        if not isinstance(data, list) or not all(isinstance(v, str) for v in data):
            raise RequestProblem(400, "expected BYTES data as a list of base64 strings (one image file each)")
        try:
            images = [base64.b64decode(v, validate=True) for v in data]
        except ValueError:
            raise RequestProblem(400, "expected BYTES data as base64 strings (JSON cannot carry raw bytes)") from None
    if len(images) != shape[0]:
        raise RequestProblem(400, f"expected {shape[0]} images, as the shape says. Received: {len(images)}")
    return images


def _binary_answer(request: dict) -> bool:
    parameters = request.get("parameters") if isinstance(request.get("parameters"), dict) else {}
    outputs = request.get("outputs") if isinstance(request.get("outputs"), list) else []
    for output in outputs:
        if not isinstance(output, dict) or output.get("name") != OUTPUT:
            raise RequestProblem(400, f"expected outputs to name only {OUTPUT!r}")
        if isinstance(output.get("parameters"), dict) and output["parameters"].get("binary_data") is True:
            return True
    return parameters.get("binary_data_output") is True and not outputs


def _infer_job(service: Service, name: str, version: str | None, header_length: str | None,
               body: bytes) -> Response:
    request, data, binary = parse_infer(header_length, body, service.limits.max_files)
    if version is not None and version != VERSION:
        raise RequestProblem(404, f"model {name[:60]!r} has no version {version[:20]!r} (only {VERSION})")
    engine = service.models.get(name)
    if isinstance(data, list):
        digits = [engines.read_digit(image, f"image {i}") for i, image in enumerate(data)]
        failed = [d for d in digits if d.image is None]
        if failed:
            raise RequestProblem(400, f"{failed[0].name}: {failed[0].error}")
        probabilities = engine.predict_tensor(engine.shape_digits(np.stack([d.image for d in digits])))
    else:
        expected = (len(data), *engine.input_shape)
        if data.shape != expected:
            raise RequestProblem(400, f"expected FP32 of shape {list(expected)} for this model. "
                                      f"Received: {list(data.shape)}")
        if not (np.isfinite(data).all() and data.min() >= 0.0 and data.max() <= 1.0):
            raise RequestProblem(400, "expected input values in [0, 1] (white ink on black, as MNIST)")
        probabilities = engine.predict_tensor(data)
    service.predicted(engine, len(probabilities))
    probabilities = np.asarray(probabilities, np.float32)
    answer: dict[str, Any] = {"model_name": name, "model_version": VERSION}
    if isinstance(request.get("id"), str):
        answer["id"] = request["id"][:200]
    output: dict[str, Any] = {"name": OUTPUT, "datatype": "FP32", "shape": list(probabilities.shape)}
    if not binary:
        output["data"] = [float(v) for v in probabilities.ravel()]
        answer["outputs"] = [output]
        return json_response(answer)
    raw = probabilities.astype("<f4").tobytes()
    output["parameters"] = {"binary_data_size": len(raw)}
    answer["outputs"] = [output]
    header = json.dumps(answer, separators=(",", ":")).encode()
    return Response(header + raw, media_type="application/octet-stream",
                    headers={"Inference-Header-Content-Length": str(len(header))})
