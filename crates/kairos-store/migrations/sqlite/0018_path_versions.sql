-- The journey version each path line was written under, so a journey's edge
-- counts follow the graph that was drawn when the contact took the edge
-- (0: written before versions were recorded).
ALTER TABLE journey_path ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
