"""Report numbers, tables for people, charts, and the notebook renderer."""
