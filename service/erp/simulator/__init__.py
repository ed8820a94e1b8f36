"""A simulated Cegid Retail Y2 tenant (SOAP over aiohttp) with fault injection and demo data.

Public API::

    state = generate(seed=42, stores=3, products=20)
    app = create_simulator_app(state, control=True, database_id="DEMO", users={"u": "p"})
    await run_simulator("127.0.0.1", 8099, state, control=True, database_id="DEMO", users=...)
    async with serve_simulator(state) as base_url: ...   # ephemeral port, for tests
    store_directory(state) -> list[dict]                  # stores as plain data
"""

from service.erp.simulator.demo_data import generate, is_valid_ean13, store_directory
from service.erp.simulator.server import create_simulator_app, run_simulator, serve_simulator
from service.erp.simulator.state import SimulatorState, StoreRecord, trim_item_id

__all__ = [
    "SimulatorState",
    "StoreRecord",
    "create_simulator_app",
    "generate",
    "is_valid_ean13",
    "run_simulator",
    "serve_simulator",
    "store_directory",
    "trim_item_id",
]
