"""Operating the services: metrics, HTTP endpoint and dashboard, dead-letter and offset tools."""
