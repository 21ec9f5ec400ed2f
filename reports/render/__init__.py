"""Writers of the sustainability report: HTML (with inline SVG charts), PDF, XLSX and CSV."""
