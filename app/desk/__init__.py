"""The manager's desk: the office at a glance (/dashboard), kept fast by rollup rows."""
