"""Answer-quality evaluation: datasets, metrics, runner, report and run comparison (`newsdesk eval`)."""
