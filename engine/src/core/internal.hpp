// SPDX-License-Identifier: Apache-2.0
// Guard included by every private engine header: only internal targets may use them.
#pragma once

#ifndef FRACTA_BUILDING_ENGINE
#error "this is a private fracta header; include the public <fracta/...> headers instead"
#endif
