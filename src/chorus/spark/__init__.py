"""The same stages on Apache Spark, with the same results: ingest, segment, reuse, talking
points and coordination run the single-machine code on each partition or group; ``chorus
load`` brings the results into a store."""

from chorus.spark.job import SPARK_STAGES, run_job

__all__ = ["SPARK_STAGES", "run_job"]
