"""Small DataFrame helpers the Spark stages share."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


def number_rows(frame: DataFrame, order: list[str | Column], name: str) -> DataFrame:
    """``frame`` with a column ``name``: each row's place (from 0) in ``order``, which must
    be total. A distributed sort then ``zipWithIndex``: no single-partition window."""
    from pyspark.sql.types import LongType, StructField, StructType

    schema = StructType([*frame.schema.fields, StructField(name, LongType(), False)])
    ranked = frame.orderBy(*order).rdd.zipWithIndex().map(lambda r: (*r[0], r[1]))
    return frame.sparkSession.createDataFrame(ranked, schema)
