"""Offline image cues for the local analyzer: colours, OCR, faces, EXIF/file name, object tags."""
