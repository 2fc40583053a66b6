"""Benchmarks for authaudit: a synthetic capture generator and the pcap benchmark against tshark.

Run them as scripts (``python bench/synth.py``, ``python bench/pcap_bench.py``); the package only
exists so that the tests and the benchmark can import :mod:`bench.synth`.
"""
