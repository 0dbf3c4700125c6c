"""Everything that touches SpiffWorkflow: deploying diagrams, running instances, the sandboxed
script environment, timers and the hash-chained history. The only room that imports SpiffWorkflow."""
