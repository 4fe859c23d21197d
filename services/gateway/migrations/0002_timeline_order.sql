-- Events of one instant keep the order they arrived in (one number's events share a partition).
ALTER TABLE timeline ADD COLUMN seq bigserial;
