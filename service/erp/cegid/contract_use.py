"""What omnistock sends and reads of each Cegid operation: the part of the contract we rely on.

``omnistock erp check`` (``contract_check``) compares a tenant's ``?singleWsdl`` with the bundled
WSDLs; these tables tell it which differences matter. Keys are ``"Service.Operation"``; a path is
a ``/``-separated chain of element local names, from the operation's input wrapper (``SENDS``,
``SENT_VALUES``) or output wrapper (``READS``) element; ``""`` is the wrapper itself.

- ``SENDS[op][path]``: the members we may send in the element at ``path`` (``payloads.py``,
  plus the context parameter the adapter adds). A bundled member we never send may be missing
  from the tenant; one we send may not. An operation without an entry counts every bundled
  member as sent.
- ``SENT_VALUES[op][path]``: the values we send in an enumeration-typed member. An enumerated
  member we send without an entry here counts every bundled value as sent.
- ``READS[op][path]``: the members ``mapping.py`` and ``readers.py`` read in the element at
  ``path``; every element on the path is read too. A member we read must exist in the tenant's
  reply type with the same type; the others may come and go.

Keep them next to the code they describe: ``tests/erp/test_contract_check.py`` checks that every
path exists in the bundled WSDLs and that every element (and enumerated value) the adapter sends
to the simulator is listed here.
"""

from __future__ import annotations

_CTX_OLD = {"clientContext": ["DatabaseId"]}
_CTX_NEW = {"Context": ["DatabaseId"]}


def _hello() -> dict[str, list[str]]:
    return {"": ["text", "clientContext"], **_CTX_OLD}


_DOC_TYPES = ["CustomerOrder", "CustomersReservation"]
_HEADER = [
    "Active",
    "Comment",
    "CurrencyId",
    "CustomerId",
    "Date",
    "ExternalReference",
    "ExternalReferenceDate",
    "InternalReference",
    "OmniChannel",
    "Origin",
    "StoreId",
    "TaxExcluded",
    "Type",
]
_OMNI = ["DeliveryStoreId", "DeliveryType", "FollowUpStatus", "PaymentStatus"]
_LINE = ["ItemIdentifier", "Label", "NetUnitPrice", "Quantity", "UnitPrice"]
_KEY = {"Identifier": ["Key"], "Identifier/Key": ["Number", "Stump", "Type"]}
_FOLLOW_UP = [
    "ToBeProcessed",
    "Validated",
    "BookedInStore",
    "AvailableInStore",
    "PickedUpInStore",
    "Closed",
]


def _create(param: str, with_payments: bool) -> dict[str, list[str]]:
    header = _HEADER if with_payments else sorted([*_HEADER, "ExpirationDate"])
    sends = {
        "": [param, "clientContext"],
        param: ["Header", "Lines", *(["Payments"] if with_payments else [])],
        f"{param}/Header": header,
        f"{param}/Header/OmniChannel": _OMNI,
        f"{param}/Lines": ["Create_Line"],
        f"{param}/Lines/Create_Line": _LINE,
        f"{param}/Lines/Create_Line/ItemIdentifier": ["Id", "Reference"],
        **_CTX_OLD,
    }
    if with_payments:
        sends[f"{param}/Payments"] = ["Create_Payment"]
        sends[f"{param}/Payments/Create_Payment"] = [
            "Amount",
            "CurrencyId",
            "DueDate",
            "Id",
            "IsReceivedPayment",
            "MethodId",
        ]
    return sends


def _create_values(param: str, delivery: str, doc_type: str) -> dict[str, list[str]]:
    return {
        f"{param}/Header/OmniChannel/DeliveryType": [delivery],
        f"{param}/Header/OmniChannel/FollowUpStatus": ["ToBeProcessed"],
        f"{param}/Header/OmniChannel/PaymentStatus": ["Totally", "Pending"],
        f"{param}/Header/Origin": ["ECommerce"],
        f"{param}/Header/Type": [doc_type],
    }


_INVENTORY_REQUEST = "inventoryStoreItemDetailRequest"

SENDS: dict[str, dict[str, list[str]]] = {
    **{
        f"{service}.HelloWorld": _hello()
        for service in (
            "ItemInventoryWcfService",
            "SaleDocumentService",
            "CustomerWcfService",
            "LoyaltyWcfService",
            "RetailSalesPriceEngine2Service",
            "ProductMerchandiseItemsService",
        )
    },
    "ItemInventoryWcfService.GetListItemInventoryDetailByStore": {
        "": [_INVENTORY_REQUEST, "clientContext"],
        _INVENTORY_REQUEST: [
            "AllAvailableWarehouse",
            "DetailSku",
            "ItemIdentifiers",
            "OnlyAvailableStock",
            "Pager",
            "StoreIds",
            "WithStoreName",
        ],
        f"{_INVENTORY_REQUEST}/ItemIdentifiers": ["ItemIdentifier"],
        f"{_INVENTORY_REQUEST}/ItemIdentifiers/ItemIdentifier": ["Reference"],
        f"{_INVENTORY_REQUEST}/Pager": ["PageIndex", "PageSize"],
        f"{_INVENTORY_REQUEST}/StoreIds": ["string"],
        **_CTX_OLD,
    },
    "ItemInventoryWcfService.GetAvailableQty": {
        "": ["itemIdentifier", "storeId", "clientContext"],
        "itemIdentifier": ["Reference"],
        **_CTX_OLD,
    },
    "ItemInventoryWcfService.GetInventoryDetailByStore": {
        "": ["itemIdentifier", "clientContext"],
        "itemIdentifier": ["Reference"],
        **_CTX_OLD,
    },
    "SaleDocumentService.Create": _create("createRequest", with_payments=True),
    "SaleDocumentService.CustomersReservationCreate": _create(
        "customersReservationCreateRequest", with_payments=False
    ),
    "SaleDocumentService.GetByReference": {
        "": ["searchRequest", "clientContext"],
        "searchRequest": ["Reference"],
        "searchRequest/Reference": ["CustomerId", "InternalReference", "Type"],
        **_CTX_OLD,
    },
    "SaleDocumentService.GetByExternalReference": {
        "": ["searchRequest", "clientContext"],
        "searchRequest": ["ExternalReference", "Type"],
        **_CTX_OLD,
    },
    "SaleDocumentService.UpdateHeader": {
        "": ["updateHeaderRequest", "clientContext"],
        "updateHeaderRequest": ["Identifier", "OmniChannel"],
        **{f"updateHeaderRequest/{path}": members for path, members in _KEY.items()},
        "updateHeaderRequest/OmniChannel": ["FollowUpStatus"],
        **_CTX_OLD,
    },
    "SaleDocumentService.Cancel": {
        "": ["cancelRequest", "clientContext"],
        "cancelRequest": ["Identifier", "ReasonId"],
        **{f"cancelRequest/{path}": members for path, members in _KEY.items()},
        **_CTX_OLD,
    },
    "CustomerWcfService.SearchCustomerIds": {
        "": ["searchData", "clientContext"],
        "searchData": ["EmailData", "MaxNumberOfCustomers"],
        "searchData/EmailData": ["Email"],
        **_CTX_OLD,
    },
    "CustomerWcfService.GetCustomerDetail": {"": ["customerId", "clientContext"], **_CTX_OLD},
    "LoyaltyWcfService.GetCustomerCards": {
        "": ["customerCardsRequest", "clientContext"],
        "customerCardsRequest": ["CustomerId"],
        **_CTX_OLD,
    },
    "LoyaltyWcfService.GetCustomerAvailableLoyaltyPoints": {
        "": ["customerReference", "clientContext"],
        **_CTX_OLD,
    },
    "LoyaltyWcfService.UpdatePoints": {
        "": ["updatePointsRequest", "clientContext"],
        "updatePointsRequest": [
            "Comment",
            "Date",
            "LoyaltyCardId",
            "Points",
            "ProgramId",
            "StoreId",
        ],
        **_CTX_OLD,
    },
    "RetailSalesPriceEngine2Service.GetListDetail": {
        "": ["Request", "Context"],
        "Request": ["Barcodes", "Date", "StoreId", "TaxExcluded"],
        "Request/Barcodes": ["string"],
        **_CTX_NEW,
    },
    "ProductMerchandiseItemsService.GetListDetail": {
        "": ["Request", "Context"],
        "Request": ["Paging"],
        "Request/Paging": ["PageIndex", "PageSize"],
        **_CTX_NEW,
    },
}

SENT_VALUES: dict[str, dict[str, list[str]]] = {
    "SaleDocumentService.Create": _create_values(
        "createRequest", "PickingUpInStore", "CustomerOrder"
    ),
    "SaleDocumentService.CustomersReservationCreate": _create_values(
        "customersReservationCreateRequest", "BookedInStore", "CustomersReservation"
    ),
    "SaleDocumentService.GetByReference": {"searchRequest/Reference/Type": _DOC_TYPES},
    "SaleDocumentService.GetByExternalReference": {"searchRequest/Type": _DOC_TYPES},
    "SaleDocumentService.UpdateHeader": {
        "updateHeaderRequest/Identifier/Key/Type": _DOC_TYPES,
        "updateHeaderRequest/OmniChannel/FollowUpStatus": _FOLLOW_UP,
    },
    "SaleDocumentService.Cancel": {"cancelRequest/Identifier/Key/Type": _DOC_TYPES},
}

_GET_HEADER = ["Active", "InternalReference", "Key", "OmniChannel", "StoreId"]
_GET_LINE = ["ItemCode", "ItemId", "ItemReference", "Label", "Quantity", "UnitPrice"]
_STOCK_ROW = (
    "GetListItemInventoryDetailByStoreResult/InventoryDetailsByStore/AvailableQtyByItemByStore"
)

READS: dict[str, dict[str, list[str]]] = {
    **{
        f"{service}.HelloWorld": {"": ["HelloWorldResult"]}
        for service in (
            "ItemInventoryWcfService",
            "SaleDocumentService",
            "CustomerWcfService",
            "LoyaltyWcfService",
            "RetailSalesPriceEngine2Service",
            "ProductMerchandiseItemsService",
        )
    },
    "ItemInventoryWcfService.GetListItemInventoryDetailByStore": {
        _STOCK_ROW: ["ItemCode", "StoresAvailableQty"],
        f"{_STOCK_ROW}/StoresAvailableQty/StoreAvailableQty": [
            "AvailableQuantity",
            "StoreId",
            "StoreName",
        ],
    },
    "ItemInventoryWcfService.GetAvailableQty": {
        "GetAvailableQtyResult": ["AvailableQty", "QueryStatus"],
    },
    "ItemInventoryWcfService.GetInventoryDetailByStore": {
        "GetInventoryDetailByStoreResult/AvailableQtyByStore": ["AvailableQty", "StoreId"],
    },
    "SaleDocumentService.Create": {"CreateResult/Key": ["Number", "Stump", "Type"]},
    "SaleDocumentService.CustomersReservationCreate": {
        "CustomersReservationCreateResult/Key": ["Number", "Stump", "Type"],
    },
    "SaleDocumentService.GetByReference": {
        "GetByReferenceResult/Header": _GET_HEADER,
        "GetByReferenceResult/Header/Key": ["Number", "Stump", "Type"],
        "GetByReferenceResult/Header/OmniChannel": ["CancelStatus", "FollowUpStatus"],
        "GetByReferenceResult/Lines/Get_Line": _GET_LINE,
    },
    "SaleDocumentService.GetByExternalReference": {
        "GetByExternalReferenceResult/Get_Replies/Get_Reply/Header": _GET_HEADER,
        "GetByExternalReferenceResult/Get_Replies/Get_Reply/Header/Key": [
            "Number",
            "Stump",
            "Type",
        ],
        "GetByExternalReferenceResult/Get_Replies/Get_Reply/Header/OmniChannel": [
            "CancelStatus",
            "FollowUpStatus",
        ],
        "GetByExternalReferenceResult/Get_Replies/Get_Reply/Lines/Get_Line": _GET_LINE,
    },
    "SaleDocumentService.UpdateHeader": {},
    "SaleDocumentService.Cancel": {},
    "CustomerWcfService.SearchCustomerIds": {
        "SearchCustomerIdsResult/CustomerQueryData": ["CustomerId"],
    },
    "CustomerWcfService.GetCustomerDetail": {
        "GetCustomerDetailResult": [
            "CustomerId",
            "EmailData",
            "FirstName",
            "LastName",
            "PhoneData",
            "UsualStoreId",
        ],
        "GetCustomerDetailResult/EmailData": ["Email"],
        "GetCustomerDetailResult/PhoneData": ["CellularPhoneNumber"],
    },
    "LoyaltyWcfService.GetCustomerCards": {
        "GetCustomerCardsResult/CardHeaderGet": [
            "Active",
            "AvailableLoyaltyPoints",
            "Closed",
            "CustomerId",
            "ExpiracyDate",
            "Id",
            "Program",
            "StoreId",
        ],
        "GetCustomerCardsResult/CardHeaderGet/Program": ["Id", "Label"],
    },
    "LoyaltyWcfService.GetCustomerAvailableLoyaltyPoints": {
        "": ["GetCustomerAvailableLoyaltyPointsResult"],
    },
    "LoyaltyWcfService.UpdatePoints": {},
    "RetailSalesPriceEngine2Service.GetListDetail": {
        "GetListDetailResult": ["CurrencyId", "Prices"],
        "GetListDetailResult/Prices/Price": ["Barcode", "ItemId", "UnitPrice"],
        "GetListDetailResult/Prices/Price/UnitPrice": [
            "Base",
            "Current",
            "DiscountPercent",
            "MarkdownReasonId",
        ],
    },
    "ProductMerchandiseItemsService.GetListDetail": {
        "GetListDetailResult/Items/Item": ["Barcode", "Description", "Id"],
        "GetListDetailResult/Pagination": ["Count"],
    },
}
