"""The trade catalog (职业/工种): what can be certified, at which levels, on which knowledge."""
