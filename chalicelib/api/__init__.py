"""HTTP blueprints, one module per resource; thin views over the services."""
