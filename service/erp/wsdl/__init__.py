"""Bundled WSDLs of the Cegid Y2 services omnistock uses, and the names both sides share.

The ``*.wsdl`` files beside this module are written by omnistock from the public shapes of the
Cegid Retail Y2 services (see CEGID-Y2.md): SOAP 1.1 document/literal wrapped, inline XSD,
members of every type in alphabetical order. The simulator serves them; the Cegid adapter loads
them (unless told to fetch ``?singleWsdl`` from the tenant).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

WSDL_DIR = Path(__file__).resolve().parent

NS_RETAIL = "http://www.cegid.fr/Retail/1.0"
NS_FAULT = "http://www.cegid.fr/fault"
NS_ARRAYS = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
NS_TEMPURI = "http://tempuri.org/"
NS_SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
BASE_CONTRACT = "ICbrBasicWebServiceInterface"


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """One Y2 service: its endpoint name, WCF contract and how it names its context parameter."""

    name: str
    contract: str
    context_param: str  # "clientContext" (older services) or "Context" (newer)
    operations: tuple[str, ...]

    @property
    def binding(self) -> str:
        return f"{{{NS_TEMPURI}}}BasicHttpBinding_{self.contract}"

    def wsdl_path(self, wsdl_dir: Path | None = None) -> Path:
        return (wsdl_dir or WSDL_DIR) / f"{self.name}.wsdl"

    def soap_action(self, operation: str) -> str:
        contract = BASE_CONTRACT if operation == "HelloWorld" else self.contract
        return f"{NS_RETAIL}/{contract}/{operation}"

    def context_param_for(self, operation: str) -> str:
        return "clientContext" if operation == "HelloWorld" else self.context_param


INVENTORY = ServiceInfo(
    "ItemInventoryWcfService",
    "IItemInventoryWcfService",
    "clientContext",
    (
        "HelloWorld",
        "GetListItemInventoryDetailByStore",
        "GetAvailableQty",
        "GetInventoryDetailByStore",
    ),
)
SALE_DOCUMENTS = ServiceInfo(
    "SaleDocumentService",
    "ISaleDocumentService",
    "clientContext",
    (
        "HelloWorld",
        "Create",
        "CustomersReservationCreate",
        "GetByReference",
        "GetByExternalReference",
        "UpdateHeader",
        "Cancel",
        "GetHeaderList",
        "GetByKey",
    ),
)
CUSTOMERS = ServiceInfo(
    "CustomerWcfService",
    "ICustomerWcfService",
    "clientContext",
    (
        "HelloWorld",
        "SearchCustomerIds",
        "GetCustomerDetail",
        "GetCustomerIdByReference",
        "AddNewCustomer",
        "UpdateCustomer",
    ),
)
LOYALTY = ServiceInfo(
    "LoyaltyWcfService",
    "ILoyaltyWcfService",
    "clientContext",
    ("HelloWorld", "GetCustomerCards", "GetCustomerAvailableLoyaltyPoints", "UpdatePoints"),
)
PRICES = ServiceInfo(
    "RetailSalesPriceEngine2Service",
    "IEngine2WebService",
    "Context",
    ("HelloWorld", "GetListDetail"),
)
ITEMS = ServiceInfo(
    "ProductMerchandiseItemsService",
    "IMerchandiseItemsWebService",
    "Context",
    ("HelloWorld", "GetListDetail"),
)

SERVICES: dict[str, ServiceInfo] = {
    s.name: s for s in (INVENTORY, SALE_DOCUMENTS, CUSTOMERS, LOYALTY, PRICES, ITEMS)
}
