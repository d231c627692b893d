"""Aggregation, ranking and calibration of submitted score sheets; later chair finalization and the official Excel lists."""
