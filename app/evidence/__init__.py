"""Evidence no one can quietly change: hash-chained history and audit, signed daily anchors,
and signed permit PDFs (README: "Evidence and signatures")."""
