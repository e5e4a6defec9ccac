"""SBA0xx: failures only a real boot shows. These rules are produced by `stability-audit --boot`
(`flake8_stability.boot`), never by flake8: they document the codes the probe reports."""
