"""The same stages on Apache Spark (preview): documents, sentences and passage reuse run the
single-machine code on each partition; ``chorus load`` brings the results into a store."""

from chorus.spark.job import SPARK_STAGES, run_job

__all__ = ["SPARK_STAGES", "run_job"]
