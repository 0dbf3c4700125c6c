"""The public satisfaction survey (SKM, PermenPAN-RB 14/2017) and its index (IKM)."""
