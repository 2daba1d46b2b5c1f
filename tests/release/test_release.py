"""The release artifacts of scripts/release.sh and the packaging step of scripts/publish.sh.

    python -m pytest tests/release -q                    # CI: packages the debug binary
    RELEASE_DIR=dist python -m pytest tests/release -q   # `make test-release`: the real zips

Without RELEASE_DIR the tests run `scripts/release.sh --bootstrap target/debug/bedrock-gateway`
(x86_64; `cargo build` first) into a temporary folder: everything but the cargo-lambda build
itself, which takes ~10 minutes per architecture. With RELEASE_DIR they check the zips a full
`make release` made, both architectures. `make test-release` also serves the x86_64 zip's
bootstrap (and the arm64 one under qemu-aarch64-static, when installed) through the fake
Lambda Runtime API tests (tests/it/lambda_runtime.rs).

`sam package` runs against moto's S3 API on loopback (no AWS): the test checks that the
packaged template names exactly what was uploaded.
"""

import hashlib
import os
import re
import socket
import stat
import subprocess
import zipfile
from pathlib import Path

import boto3
import pytest
import yaml
from moto.server import ThreadedMotoServer

ROOT = Path(__file__).resolve().parents[2]
# ELF e_machine values (System V ABI): the architecture a zip's name promises.
ELF_MACHINE = {"x86_64": 62, "arm64": 183}
# provided.al2023 has glibc 2.34: a bootstrap needing a newer symbol version would not start.
MAX_GLIBC = (2, 34)


def run(cmd, **kwargs):
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{cmd} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


def release(out, bootstrap):
    env = dict(os.environ, SOURCE_DATE_EPOCH="1767225600")
    run(["scripts/release.sh", "--bootstrap", str(bootstrap), "--arch", "x86_64", "--out", str(out)], env=env)


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    if os.environ.get("RELEASE_DIR"):
        return Path(os.environ["RELEASE_DIR"]).resolve()
    bootstrap = ROOT / "target/debug/bedrock-gateway"
    assert bootstrap.exists(), "build the gateway first (cargo build), or set RELEASE_DIR"
    out = tmp_path_factory.mktemp("dist")
    release(out, bootstrap)
    return out


def zips(dist):
    found = sorted(dist.glob("bedrock-gateway-*.zip"))
    assert found, f"no zips in {dist}"
    if os.environ.get("RELEASE_DIR"):
        assert {z.name for z in found} == {"bedrock-gateway-arm64.zip", "bedrock-gateway-x86_64.zip"}
    return found


def elf_facts(binary: bytes):
    assert binary[:4] == b"\x7fELF", "not an ELF file"
    assert binary[4] == 2 and binary[5] == 1, "not a 64-bit little-endian ELF"
    machine = int.from_bytes(binary[18:20], "little")
    glibc = {tuple(int(p) for p in v.split(b".")) for v in re.findall(rb"GLIBC_(\d+\.\d+(?:\.\d+)?)\x00", binary)}
    interpreter = re.search(rb"/lib(?:64)?/ld-linux[-\w.]*\.so\.\d", binary)
    return machine, glibc, interpreter.group().decode() if interpreter else None


def test_each_zip_holds_one_executable_bootstrap_for_its_architecture(dist):
    for path in zips(dist):
        arch = path.stem.removeprefix("bedrock-gateway-")
        with zipfile.ZipFile(path) as archive:
            assert archive.namelist() == ["bootstrap"], path.name
            info = archive.getinfo("bootstrap")
            mode = info.external_attr >> 16
            assert stat.S_ISREG(mode) and stat.S_IMODE(mode) == 0o755, f"{path.name}: mode {oct(mode)}"
            binary = archive.read("bootstrap")
        machine, glibc, interpreter = elf_facts(binary)
        assert machine == ELF_MACHINE[arch], f"{path.name} holds an ELF for machine {machine}"
        expected = "/lib/ld-linux-aarch64.so.1" if arch == "arm64" else "/lib64/ld-linux-x86-64.so.2"
        assert interpreter == expected, f"{path.name}: interpreter {interpreter}"
        assert glibc and max(glibc) <= MAX_GLIBC, f"{path.name} needs glibc {max(glibc)} (al2023 has 2.34)"


def test_checksums_cover_every_artifact(dist):
    lines = (dist / "SHA256SUMS").read_text().splitlines()
    listed = {}
    for line in lines:
        digest, name = line.split(maxsplit=1)
        listed[name.lstrip("*")] = digest
    expected = {z.name for z in zips(dist)} | {"template.packaged.yaml"}
    assert set(listed) == expected
    for name, digest in listed.items():
        assert hashlib.sha256((dist / name).read_bytes()).hexdigest() == digest, name


def test_the_packaged_template_reads_the_code_from_the_artifact_parameters_and_lints(dist):
    template = yaml.safe_load((dist / "template.packaged.yaml").read_text())
    params = template["Parameters"]
    assert "Default" not in params["ArtifactBucket"]
    assert params["ArtifactPrefix"]["Default"].startswith("bedrock-gateway/")
    code = template["Resources"]["GatewayFunction"]["Properties"]["CodeUri"]
    assert code == {
        "Bucket": {"Ref": "ArtifactBucket"},
        "Key": {"Fn::Sub": "${ArtifactPrefix}bedrock-gateway-${Architecture}.zip"},
    }
    # Every Architecture the template allows has its zip in a full release.
    if os.environ.get("RELEASE_DIR"):
        for arch in params["Architecture"]["AllowedValues"]:
            assert (dist / f"bedrock-gateway-{arch}.zip").exists(), arch
    assert "BuildMethod" not in template["Resources"]["GatewayFunction"].get("Metadata", {})
    run(["cfn-lint", str(dist / "template.packaged.yaml")])


def test_zips_are_reproducible(tmp_path):
    bootstrap = ROOT / "target/debug/bedrock-gateway"
    if not bootstrap.exists():
        pytest.skip("needs target/debug/bedrock-gateway (cargo build)")
    release(tmp_path / "a", bootstrap)
    release(tmp_path / "b", bootstrap)
    a, b = (tmp_path / d / "bedrock-gateway-x86_64.zip" for d in "ab")
    assert a.read_bytes() == b.read_bytes()
    assert (tmp_path / "a/SHA256SUMS").read_text() == (tmp_path / "b/SHA256SUMS").read_text()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sam_package_uploads_the_zip_and_readme_the_template_then_names(dist, tmp_path):
    """publish.sh's packaging step against moto's S3 API: the packaged SAR template points at
    the objects it uploaded, and they hold exactly the release zip and README.md."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        creds = dict(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
        s3 = boto3.client("s3", endpoint_url=endpoint, **creds)
        s3.create_bucket(Bucket="sar-artifacts")
        arch = zips(dist)[0].stem.removeprefix("bedrock-gateway-")
        out = tmp_path / "publish"
        out.mkdir()
        (out / f"bedrock-gateway-{arch}.zip").write_bytes((dist / f"bedrock-gateway-{arch}.zip").read_bytes())
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            SAR_BUCKET="sar-artifacts", SAR_PREFIX="test", ARCH=arch, OUT=str(out), VERSION="9.8.7",
            AWS_ENDPOINT_URL_S3=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
            AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", SAM_CLI_TELEMETRY="0",
            SOURCE_CODE_URL="https://example.org/bedrock-gateway",
        )
        run(["scripts/publish.sh", "--package-only"], env=env)
        packaged = yaml.safe_load((out / "template.sar.packaged.yaml").read_text())
        app = packaged["Metadata"]["AWS::ServerlessRepo::Application"]
        assert app["SemanticVersion"] == "9.8.7"
        assert app["SourceCodeUrl"] == "https://example.org/bedrock-gateway"
        assert app["SpdxLicenseId"] == "MIT-0"
        assert packaged["Parameters"]["Architecture"]["AllowedValues"] == [arch]

        def uploaded(uri):
            match = re.fullmatch(r"s3://sar-artifacts/(test/9\.8\.7/.+)", uri)
            assert match, uri
            return s3.get_object(Bucket="sar-artifacts", Key=match.group(1))["Body"].read()

        code_uri = packaged["Resources"]["GatewayFunction"]["Properties"]["CodeUri"]
        assert uploaded(code_uri) == (dist / f"bedrock-gateway-{arch}.zip").read_bytes()
        readme = app["ReadmeUrl"]
        assert uploaded(readme) == (ROOT / "README.md").read_bytes()
        listed = {o["Key"] for o in s3.list_objects_v2(Bucket="sar-artifacts")["Contents"]}
        assert len(listed) == 2, listed
    finally:
        server.stop()
