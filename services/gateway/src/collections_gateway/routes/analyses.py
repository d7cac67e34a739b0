"""Analysis versions of an item: list them, correct the current one, restore an old one."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, patch, post
from litestar.params import Parameter

from collections_gateway.analyses import AnalysesService
from collections_gateway.schemas import AnalysisList, AnalysisOut
from collections_shared.auth import Principal
from collections_shared.domain.analysis_edit import AnalysisEdit

BEARER: list[dict[str, list[str]]] = [{"BearerToken": []}]


class AnalysesController(Controller):
    path = "/items"
    tags = ["items"]
    security = BEARER

    @get("/{item_id:uuid}/analyses", summary="Every analysis version of an item, newest first")
    async def versions(
        self, principal: Principal, analyses: AnalysesService, item_id: uuid.UUID
    ) -> AnalysisList:
        return AnalysisList(analyses=await analyses.versions(principal.user_id, item_id))

    @patch(
        "/{item_id:uuid}/analysis",
        summary="Correct the current analysis (a new version by the owner)",
        description="Fields left out keep their value; lists replace the whole list. The new "
        "version has provider `user` and is re-embedded; a later automatic analysis keeps the "
        "fields set here unless it is asked to replace them.",
        opt={"problems": [409]},
    )
    async def edit(
        self,
        principal: Principal,
        analyses: AnalysesService,
        item_id: uuid.UUID,
        data: AnalysisEdit,
    ) -> AnalysisOut:
        return await analyses.edit(principal.user_id, item_id, data)

    @post(
        "/{item_id:uuid}/analyses/{version:int}/restore",
        status_code=201,
        summary="Make an old analysis version current again (as a new version)",
        opt={"problems": [409]},
    )
    async def restore(
        self,
        principal: Principal,
        analyses: AnalysesService,
        item_id: uuid.UUID,
        version: Annotated[int, Parameter(ge=1, le=1_000_000)],
    ) -> AnalysisOut:
        return await analyses.restore(principal.user_id, item_id, version)
