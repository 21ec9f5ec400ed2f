"""Federation: links between communities and the transfers that cross them, on one install and
between installs (nodes)."""
