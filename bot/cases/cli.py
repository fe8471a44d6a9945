"""``empfang ledger verify|export``: the transfer ledger for the data-protection officer.

The commands are those of every chained table (``bot.chain_cli``); see there for exit codes.
"""

from __future__ import annotations

import argparse

from bot.chain_cli import LEDGER, ConfigArg, add_chain_parser, run_chain


def add_ledger_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], config_arg: ConfigArg
) -> None:
    add_chain_parser(sub, config_arg, LEDGER)


def run_ledger(args: argparse.Namespace) -> int:
    return run_chain(args, LEDGER)
