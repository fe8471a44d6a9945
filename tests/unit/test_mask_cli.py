"""``empfang mask``: stdin lines in, lines as agents would see them out (bot/mask_cli.py)."""

from __future__ import annotations

import io

from bot.mask_cli import EXIT_OK, EXIT_USAGE, run_mask


class _FlushCountingOutput(io.StringIO):
    """Records what had been written at each flush, to see that lines leave one by one."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[str] = []

    def flush(self) -> None:
        super().flush()
        self.flushed.append(self.getvalue())


def _run(text: str, region: str = "DE", visible_digits: int = 2) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = run_mask(region, visible_digits, io.StringIO(text), stdout, stderr=stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def test_lines_are_masked_one_output_line_per_input_line() -> None:
    text = (
        "Bitte rufen Sie mich an: 0151 23456789\n"
        "\n"
        "Bestellnummer 4711-2023-0815 vom 12.03.2024\n"
        "Oder +43 664 1234567\n"
    )
    code, out, err = _run(text)
    assert code == EXIT_OK
    assert err == ""
    assert out.splitlines() == [
        "Bitte rufen Sie mich an: +49 ••• ••••••89",
        "",
        "Bestellnummer 4711-2023-0815 vom 12.03.2024",
        "Oder +43 ••• •••••67",
    ]


def test_last_line_without_newline_and_crlf() -> None:
    code, out, _ = _run("Tel 030 12345678\r\nTel 030 87654321")
    assert code == EXIT_OK
    assert out == "Tel +49 ••• •••••78\nTel +49 ••• •••••21\n"


def test_region_reads_national_numbers() -> None:
    _, out, _ = _run("Natel 079 123 45 67\n", region="ch")
    assert out == "Natel +41 ••• ••••67\n"


def test_visible_digits() -> None:
    _, out, _ = _run("Tel 0151 23456789\n", visible_digits=0)
    assert out == "Tel +49 ••• ••••••••\n"


def test_each_line_is_flushed_before_the_next_is_read() -> None:
    stdout = _FlushCountingOutput()
    run_mask("DE", 2, io.StringIO("a 0151 23456789\nb\nc\n"), stdout)
    assert stdout.flushed == [
        "a +49 ••• ••••••89\n",
        "a +49 ••• ••••••89\nb\n",
        "a +49 ••• ••••••89\nb\nc\n",
    ]


def test_empty_input() -> None:
    assert _run("") == (EXIT_OK, "", "")


def test_unknown_region_is_a_usage_error() -> None:
    code, out, err = _run("Tel 0151 23456789\n", region="XX")
    assert code == EXIT_USAGE
    assert out == ""
    assert "unknown region 'XX'" in err
