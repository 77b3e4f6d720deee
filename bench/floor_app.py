"""The floor for cold starts: a 3-route FastAPI + Mangum hello app with nothing else imported."""

from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.get("/api/v1/hello")
async def hello() -> dict:
    return {"hello": "world"}


@app.get("/api/v1/items/{item_id}")
async def item(item_id: int) -> dict:
    return {"id": item_id}


@app.post("/api/v1/echo")
async def echo(body: dict) -> dict:
    return body


handler = Mangum(app, lifespan="off")
