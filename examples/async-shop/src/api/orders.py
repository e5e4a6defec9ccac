"""Order endpoints."""
from fastapi import APIRouter, Depends
from pydantic import EmailStr
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from src.db.models import Order
from src.db.session import get_session

router = APIRouter(prefix="/orders", tags=["orders"])


class OrderCreate(SQLModel):
    product_id: int
    quantity: int = 1
    customer_email: EmailStr


@router.post("/", status_code=201)
async def create_order(data: OrderCreate, session: AsyncSession = Depends(get_session)) -> Order:
    order = Order(product_id=data.product_id, quantity=data.quantity)
    session.add(order)
    await session.commit()
    await session.refresh(order)
    return order
