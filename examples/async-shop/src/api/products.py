"""Product endpoints."""
from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from src.db.models import Product, ProductBase
from src.db.session import get_session

router = APIRouter(prefix="/products", tags=["products"])


@router.get("/")
async def list_products(session: AsyncSession = Depends(get_session)) -> list[Product]:
    result = await session.exec(select(Product))
    return list(result.all())


@router.post("/", status_code=201)
async def create_product(data: ProductBase, session: AsyncSession = Depends(get_session)) -> Product:
    product = Product.model_validate(data)
    session.add(product)
    session.commit()
    await session.refresh(product)
    return product


@router.get("/{product_id}")
async def get_product(product_id: int, session: AsyncSession = Depends(get_session)) -> Product:
    product = await session.get(Product, product_id)
    if product is None:
        raise HTTPException(status_code=404, detail="Product not found")
    return product
