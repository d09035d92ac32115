"""`digitkit predict` against bare LiteRT scripts measured in the same run, interleaved.

    python benchmarks/predict_speed.py [--home DIR] [--repeat 7]            # one image, cold start
    python benchmarks/predict_speed.py --photo [--repeat 7]                  # one 12 MP JPEG photo, cold start
    python benchmarks/predict_speed.py --batch [--files 10000] [--repeat 3]  # a folder of mixed files
    python benchmarks/predict_speed.py [--batch] --tta [--model cnn-best@pretrained]  # the cost of --tta

One image: ``digitkit predict one.png`` in a fresh process against a bare script that loads
the same ``model.tflite`` with ai-edge-litert, decodes the PNG with Pillow and predicts
(and ``digitkit --version`` for scale). Target: median ratio <= 1.3.

Photo: the same with a 12 MP (4032x3024) JPEG phone photo of a small digit on beige paper
under a cast shadow, with EXIF orientation, against the same bare script (which decodes it
whole and shrinks it to 28x28). Target: <= 0.5 s wall for ``digitkit predict``.

Batch: ``digitkit predict FOLDER --csv`` on generated files (28-300 px, PNG and JPEG, dark
on light and light on dark) against a one-process bare script (Pillow decode, grey, crop,
resize, LiteRT in batches of 32). Targets: >= 1,000 files/s and >= 0.8x the bare script.
Peak RSS of each is shown (``--files 100000`` checks the 400 MB bound).

The digitkit package is byte-compiled first (``compileall``, as ``pip install`` does): run
from a checkout with ``PYTHONDONTWRITEBYTECODE=1`` every start would otherwise compile every
module it imports, which is not what an installed digitkit costs.

TTA: ``digitkit predict --model MODEL`` with and without ``--tta``, taking turns in the
same run (one image cold start, or the batch folder with ``--batch``), and the ratio.

Uses the latest completed ``cnn`` run of ``--home`` (or trains a small one into a temporary
home: 1 epoch on the bundled sample). Every figure is a median of ``--repeat`` runs, the
contenders taking turns so a busy machine slows them alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

WRAPPER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
                  "code": proc.returncode, "stderr": proc.stderr.decode(errors="replace")[-500:]}))
"""

BARE_ONE = """
import sys
import numpy as np
from PIL import Image
from ai_edge_litert.interpreter import Interpreter
interpreter = Interpreter(model_path=sys.argv[1])
interpreter.allocate_tensors()
detail = interpreter.get_input_details()[0]
image = Image.open(sys.argv[2]).convert("L").resize((28, 28))
x = (255 - np.asarray(image, np.float32)) / 255.0
interpreter.set_tensor(detail["index"], x.reshape(detail["shape"]).astype(np.float32))
interpreter.invoke()
print(int(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).argmax()))
"""

BARE_BATCH = """
import os, sys
import numpy as np
from PIL import Image, ImageOps
from ai_edge_litert.interpreter import Interpreter
interpreter = Interpreter(model_path=sys.argv[1])
detail = interpreter.get_input_details()[0]
shape = [32, *detail["shape"][1:]]
interpreter.resize_tensor_input(detail["index"], shape)
interpreter.allocate_tensors()
out = interpreter.get_output_details()[0]["index"]

def digit(path):
    grey = Image.open(path).convert("L")
    if np.asarray(grey).mean() > 127:  # dark ink on light paper
        grey = ImageOps.invert(grey)
    box = grey.point(lambda v: 255 if v > 80 else 0).getbbox() or (0, 0, grey.width, grey.height)
    crop = grey.crop(box)
    side = max(crop.size)
    square = Image.new("L", (side, side))
    square.paste(crop, ((side - crop.width) // 2, (side - crop.height) // 2))
    canvas = Image.new("L", (28, 28))
    canvas.paste(square.resize((20, 20), Image.Resampling.BILINEAR), (4, 4))
    return np.asarray(canvas, np.float32) / 255.0

files = sorted(os.path.join(sys.argv[2], f) for f in os.listdir(sys.argv[2]))
for start in range(0, len(files), 32):
    batch = np.stack([digit(f) for f in files[start:start + 32]])
    count = len(batch)
    if count < 32:
        batch = np.concatenate([batch, np.zeros((32 - count, 28, 28), np.float32)])
    interpreter.set_tensor(detail["index"], batch.reshape(shape))
    interpreter.invoke()
    answers = interpreter.get_tensor(out)[:count].argmax(axis=1)
    sys.stdout.write("".join(f"{f},{a}\\n" for f, a in zip(files[start:start + count], answers)))
"""


def measure(command: list[str], env: dict[str, str]) -> dict:
    proc = subprocess.run([sys.executable, "-c", WRAPPER, *command], capture_output=True, text=True, env=env)
    result = json.loads(proc.stdout)
    if result["code"] not in (0, 7):
        raise SystemExit(f"{' '.join(command[:4])}… failed ({result['code']}): {result['stderr']}")
    return result


def ensure_run(home: Path) -> Path:
    """The latest completed cnn run's model.tflite (trains a small run when there is none)."""
    os.environ["DIGITKIT_HOME"] = str(home)
    from digitkit.inference.refs import latest_run_of

    run = latest_run_of("cnn")
    if run is None:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from predict_fixtures import train_run

        print("training a small cnn run (1 epoch on 600 sample digits)…", file=sys.stderr)
        run = train_run("cnn", home / "runs", epochs=1)
    return run.file("model.tflite")


def write_mixed(folder: Path, count: int, seed: int = 0) -> Path:
    """``count`` digit files, 28-300 px, PNG and JPEG, both polarities."""
    import numpy as np
    from PIL import Image

    from digitkit.data import load_digits

    digits = load_digits("sample", split="test").images
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        image = digits[i % len(digits)]
        if rng.random() < 0.5:
            image = 255 - image
        side = int(rng.integers(28, 301))
        picture = Image.fromarray(image).resize((side, side), Image.Resampling.BILINEAR)
        if rng.random() < 0.5:
            picture.save(folder / f"{i:06d}.png")
        else:
            picture.save(folder / f"{i:06d}.jpg", quality=int(rng.integers(60, 95)))
    return folder


def write_photo(path: Path) -> Path:
    """A 12 MP phone photo: a digit 8 % of the height, thin strokes, beige paper, a cast
    shadow over a third of the sheet, a table band, JPEG quality 85, EXIF orientation 6."""
    import numpy as np
    from PIL import Image, ImageDraw

    from digitkit.data import load_digits

    digit = load_digits("sample", split="test").images[0]
    width, height = 4032, 3024
    paper = Image.new("RGB", (width, height), (236, 222, 190))
    draw = ImageDraw.Draw(paper)
    draw.polygon([(0, 0), (1500, 0), (900, height), (0, height)], fill=(130, 122, 112))  # the shadow
    draw.rectangle((0, height - 200, width, height), fill=(60, 45, 35))  # the table
    side = int(height * 0.08 * 28 / 20)
    ink = Image.fromarray(digit).resize((side, side), Image.Resampling.BILINEAR)
    ink = ink.point(lambda v: 255 if v > 200 else 0)  # thin strokes, the cores of MNIST's
    paper.paste(Image.new("RGB", ink.size, (25, 25, 30)), (2200, 1300), ink)
    noise = np.random.default_rng(0).normal(0, 3, (height, width, 1))
    photo = Image.fromarray(np.clip(np.asarray(paper) + noise, 0, 255).astype(np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6
    photo.transpose(Image.Transpose.ROTATE_90).save(path, quality=85, exif=exif.tobytes())
    return path


def summary(results: list[dict]) -> dict:
    return {"wall": statistics.median(r["wall"] for r in results),
            "cpu": statistics.median(r["cpu"] for r in results),
            "rss_mb": max(r["rss_mb"] for r in results)}


def interleaved(contenders: dict[str, list[str]], env: dict[str, str], repeat: int, warm: bool = True,
                ) -> dict[str, dict]:
    for command in contenders.values() if warm else ():
        measure(command, env)  # warm the file cache
    runs: dict[str, list[dict]] = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, command in contenders.items():
            runs[name].append(measure(command, env))
    return {name: summary(results) for name, results in runs.items()}


def cell(r: dict) -> str:
    return f"{r['wall']:>7.3f} s wall {r['cpu']:>7.3f} s CPU {r['rss_mb']:>6.0f} MB"


def one_image(tflite: Path, scratch: Path, env: dict[str, str], repeat: int) -> None:
    one = write_mixed(scratch / "one", 1)
    image = next(one.iterdir())
    predict = [sys.executable, "-m", "digitkit", "predict", str(image)]
    results = interleaved({
        "bare LiteRT script": [sys.executable, "-c", BARE_ONE, str(tflite), str(image)],
        "digitkit predict": predict,  # the latest cnn run: listing the runs, reading manifests
        "  -m RUN_ID": [*predict, "-m", tflite.parent.name],
        "  -m cnn@pretrained": [*predict, "-m", "cnn@pretrained"],
        "  -m FILE.tflite": [*predict, "-m", str(tflite)],
        "digitkit --version": [sys.executable, "-m", "digitkit", "--version"],
    }, env, repeat)
    for name, r in results.items():
        print(f"{name:<22} {cell(r)}")
    bare = results["bare LiteRT script"]["wall"]
    for name in ("digitkit predict", "  -m RUN_ID", "  -m cnn@pretrained", "  -m FILE.tflite"):
        print(f"one image, {name.strip()}: digitkit / bare = {results[name]['wall'] / bare:.2f}x (target <= 1.3x)")
    print(f"medians of {repeat}")


def photo(tflite: Path, scratch: Path, env: dict[str, str], repeat: int) -> None:
    image = write_photo(scratch / "photo.jpg")
    results = interleaved({
        "bare LiteRT script": [sys.executable, "-c", BARE_ONE, str(tflite), str(image)],
        "digitkit predict": [sys.executable, "-m", "digitkit", "predict", str(image)],
    }, env, repeat)
    for name, r in results.items():
        print(f"{name:<22} {cell(r)}")
    ratio = results["digitkit predict"]["wall"] / results["bare LiteRT script"]["wall"]
    print(f"12 MP photo: digitkit {results['digitkit predict']['wall']:.3f} s wall (target <= 0.5 s), "
          f"{ratio:.2f}x the bare script (decode + shrink + model), medians of {repeat}")


def batch(tflite: Path, scratch: Path, env: dict[str, str], repeat: int, files: int) -> None:
    folder = write_mixed(scratch / "batch", files)
    results = interleaved({
        "bare one-process script": [sys.executable, "-c", BARE_BATCH, str(tflite), str(folder)],
        "digitkit predict --csv": [sys.executable, "-m", "digitkit", "predict", str(folder), "--csv"],
    }, env, repeat, warm=False)  # the files were just written: already in the page cache
    for name, r in results.items():
        print(f"{name:<24} {cell(r)} {files / r['wall']:>8,.0f} files/s")
    ratio = results["bare one-process script"]["wall"] / results["digitkit predict --csv"]["wall"]
    print(f"{files:,} files: digitkit {files / results['digitkit predict --csv']['wall']:,.0f} files/s "
          f"(target >= 1,000), {ratio:.2f}x the bare script (target >= 0.8x), "
          f"peak RSS {results['digitkit predict --csv']['rss_mb']:.0f} MB (bound 400 MB), medians of {repeat}")


def tta_cost(scratch: Path, env: dict[str, str], repeat: int, model: str, files: int | None) -> None:
    """``predict`` with and without ``--tta``, interleaved: one image, or a batch folder."""
    if files:
        target, extra, what = write_mixed(scratch / "batch", files), ["--csv"], f"{files:,} files"
    else:
        target, extra, what = next(write_mixed(scratch / "one", 1).iterdir()), [], "one image"
    command = [sys.executable, "-m", "digitkit", "predict", str(target), "-m", model, *extra]
    results = interleaved({"predict": command, "predict --tta": [*command, "--tta"]}, env, repeat, warm=not files)
    for name, r in results.items():
        rate = f" {files / r['wall']:>8,.0f} files/s" if files else ""
        print(f"{name:<16} {cell(r)}{rate}")
    ratio = results["predict --tta"]["wall"] / results["predict"]["wall"]
    print(f"{what}, -m {model}: --tta takes {ratio:.2f}x the wall time of plain predict, medians of {repeat}")


def compile_package() -> None:
    """Byte-compile digitkit as `pip install` does: an editable checkout run with
    PYTHONDONTWRITEBYTECODE=1 would otherwise compile every module on every start."""
    import compileall

    compileall.compile_dir(str(Path(__file__).resolve().parents[1] / "digitkit"), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="digitkit home with a completed cnn run")
    parser.add_argument("--batch", action="store_true", help="measure a folder of files instead of one image")
    parser.add_argument("--photo", action="store_true", help="measure one 12 MP JPEG phone photo")
    parser.add_argument("--files", type=int, default=10_000, help="files in the batch test")
    parser.add_argument("--repeat", type=int, default=None, help="runs per contender (median shown)")
    parser.add_argument("--tta", action="store_true", help="measure predict with and without --tta")
    parser.add_argument("--model", default="cnn-best@pretrained", help="the model for --tta")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="digitkit-speed-"))
    home = args.home or scratch / "home"
    compile_package()
    tflite = ensure_run(home) if not args.tta else args.model  # --tta compares digitkit with itself
    env = {**os.environ, "DIGITKIT_HOME": str(home)}
    load = ", load average %.1f %.1f %.1f" % os.getloadavg() if hasattr(os, "getloadavg") else ""
    print(f"model: {tflite}; cores: {os.cpu_count()}{load}; digitkit byte-compiled first, as pip install does")
    if args.tta:
        tta_cost(scratch, env, args.repeat or (3 if args.batch else 7), args.model, args.files if args.batch else None)
    elif args.batch:
        batch(tflite, scratch, env, args.repeat or 3, args.files)
    elif args.photo:
        photo(tflite, scratch, env, args.repeat or 7)
    else:
        one_image(tflite, scratch, env, args.repeat or 7)


if __name__ == "__main__":
    main()
