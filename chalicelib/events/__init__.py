"""Triggers that are not HTTP: the schedule, SQS queues, SNS topics."""
