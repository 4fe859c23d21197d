-- The no-code path (Meta's solution-migration intent): the destination solution precheck found for a qualifying
-- number, and Meta's id of the intent once set. A saga on this path has flow 'solution_intent' until it falls back.
ALTER TABLE sagas ADD COLUMN intent_solution_id text, ADD COLUMN migration_intent_id text;
