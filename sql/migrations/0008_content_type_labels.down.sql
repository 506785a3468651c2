DROP TABLE IF EXISTS content_type_labels;
