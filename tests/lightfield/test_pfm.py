import numpy as np
import pytest

from geodl.lightfield import read_pfm, write_pfm


def test_round_trip_and_row_order(tmp_path):
    img = np.arange(12, dtype=np.float32).reshape(3, 4)
    write_pfm(tmp_path / "a.pfm", img)
    raw = (tmp_path / "a.pfm").read_bytes()
    assert raw.startswith(b"Pf\n4 3\n-1.0\n")
    # the first stored row is the bottom row of the image
    first = np.frombuffer(raw[len(b"Pf\n4 3\n-1.0\n"):][:16], "<f4")
    assert first.tolist() == [8.0, 9.0, 10.0, 11.0]
    assert np.array_equal(read_pfm(tmp_path / "a.pfm"), img)
    rgb = np.random.default_rng(0).random((5, 2, 3)).astype(np.float32)
    write_pfm(tmp_path / "b.pfm", rgb)
    assert np.array_equal(read_pfm(tmp_path / "b.pfm"), rgb)


def test_big_endian_and_comments(tmp_path):
    img = np.array([[1.5, -2.0], [3.25, np.inf]], np.float32)
    body = np.flipud(img).astype(">f4").tobytes()
    (tmp_path / "be.pfm").write_bytes(b"Pf\n# a comment\n2 2\n1.0\n" + body)
    out = read_pfm(tmp_path / "be.pfm")
    assert out[0].tolist() == [1.5, -2.0] and out[1, 0] == 3.25 and np.isinf(out[1, 1])


def test_bad_files(tmp_path):
    (tmp_path / "t.pfm").write_bytes(b"Pf\n4 3\n-1.0\n" + b"\0" * 10)
    with pytest.raises(ValueError, match="truncated"):
        read_pfm(tmp_path / "t.pfm")
    (tmp_path / "m.pfm").write_bytes(b"P6\n4 3\n255\n")
    with pytest.raises(ValueError, match="magic"):
        read_pfm(tmp_path / "m.pfm")
    (tmp_path / "h.pfm").write_bytes(b"Pf\nfour 3\n-1\n")
    with pytest.raises(ValueError, match="malformed"):
        read_pfm(tmp_path / "h.pfm")
    with pytest.raises(ValueError, match="image"):
        write_pfm(tmp_path / "x.pfm", np.zeros((2, 2, 2)))


@pytest.mark.parametrize("scale", [b"nan", b"-nan", b"inf", b"-inf", b"0", b"-0.0"])
def test_scale_without_a_sign_is_refused(tmp_path, scale):
    """The scale's sign is the byte order: NaN, inf and zero do not give one."""
    (tmp_path / "s.pfm").write_bytes(b"Pf\n2 1\n" + scale + b"\n" + b"\0" * 8)
    with pytest.raises(ValueError, match="malformed"):
        read_pfm(tmp_path / "s.pfm")


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan"), float("inf")])
def test_write_refuses_bad_scale(tmp_path, scale):
    with pytest.raises(ValueError, match="scale"):
        write_pfm(tmp_path / "x.pfm", np.zeros((2, 2)), scale=scale)


@pytest.mark.parametrize("header", [b"Pf 4 3 -1\n", b"Pf\n4 3\n-1\n", b"Pf\n# made by hand\n4\n3\n-1.0\n",
                                    b"Pf 4\t3 -1 ", b"Pf\r\n4 3\r\n-1\r\n"])
def test_any_legal_header_layout_reads(tmp_path, header):
    a = np.arange(12, dtype="<f4").reshape(3, 4)
    (tmp_path / "x.pfm").write_bytes(header + np.flipud(a).tobytes())
    np.testing.assert_array_equal(read_pfm(tmp_path / "x.pfm"), a)
