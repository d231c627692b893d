"""Score sheets (专家评分表): independent, blind, autosaved scoring with versions, submit, return and resubmit."""
