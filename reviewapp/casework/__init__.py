"""The one state-machine helper shared by objections (异议) and whistle-blower reports (举报)."""
