"""Federation: links between communities and the cross transfers over them, on one install
(here) and between installs (the peer part builds on these steps). See docs/federation.md."""
