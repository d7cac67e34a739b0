"""Names vulture cannot see being read, each with who reads it (`make lint` runs vulture).

Add a name here only when something outside our Python reads it; anything else it reports is
dead code to remove.
"""

# Wire fields: msgspec encodes every field of these Structs into JSON for clients and other
# services; no Python reads them back.
id_token  # gateway schemas.Tokens (the design card's login response)
token_type  # gateway schemas.Tokens
thumbnail_url  # gateway ItemSummary/ItemDetail, domain.search.ItemCard: presigned, for the UI
preview_url  # gateway schemas.ItemDetail
original_url  # gateway schemas.ItemDetail
items_with_location  # gateway schemas.PreferencesOut (GET /me/preferences)
chat_sessions  # gateway schemas.DeletedAccount (DELETE /me)
highlights  # collections_shared.domain.search.SearchResult
took_ms  # collections_shared.domain.search.SearchResponse (the design card's search response)
occurred_at  # collections_shared.events.Event: every event carries it on the bus
schema_version  # collections_shared.events.Event
lens_model  # ingest imaging.exif.ExifFacts: stored in items.exif through dataclasses.asdict
by_status  # gateway schemas.PipelineSummary (GET /items/summary, the web UI's status view)
in_progress  # gateway schemas.PipelineSummary
system  # domain.imports.ImportSource: kept with an imported version, shown as analysis.source

# Read by the library the object is handed to.
_.intra_op_num_threads  # onnxruntime.SessionOptions (embeddings local.py)
_.inter_op_num_threads  # onnxruntime.SessionOptions
_.log_severity_level  # onnxruntime.SessionOptions
new_versions  # BaseCheckpointSaver.aput's signature; LangGraph passes it by name
_.find_class  # pickle.Unpickler calls it (analyzer classifier/convert.py)
_.ir_version  # onnx.ModelProto's field, written into the model file (classifier/convert.py)
_.load_balancer  # the services stack's public handle on its ALB (CDK constructs expose theirs)
_.should_exit  # uvicorn.Server polls it to stop (tests/test_traces.py serves apps in threads)
_.row_factory  # sqlite3.Connection reads it (cli local_library.py)
_.metrics_refreshers  # app.state, read by name by collections_shared.http's /metrics route
_.vector_similarity  # search's Explanation, read by clients as JSON (domain/search.py)
_.calibrated  # search's Explanation, read by clients as JSON
_.keyword_score  # search results, read by clients as JSON
_.vector_score  # search results, read by clients as JSON

# Owned by another area, left for its owner: the chat agent (services/chat/.../agent/).
NOTHING_TO_REFER_TO  # agent/prompts.py
