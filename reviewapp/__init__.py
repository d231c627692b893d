"""reviewapp: 智能工厂评审协作平台, the expert-review platform for the smart-factory tier programme."""
