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
  reply type with the same type; the others may come and go. ``"A|B"``: we read ``A``, or ``B``
  when there is no ``A`` (one of them must exist).

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


_RESERVATION_HEADER = [
    "Active",
    "Comment",
    "CurrencyId",
    "CustomerId",
    "Date",
    "ExpirationDate",
    "ExternalReference",
    "ExternalReferenceDate",
    "InternalReference",
    "StoreId",
    "TaxExcluded",
]
_CREATE = "createRequest"
_RESERVATION = "customersReservationCreateRequest"
_RESERVATION_LINE = "CustomersReservationCreate_Line"


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
    "SaleDocumentService.Create": {
        "": [_CREATE, "clientContext"],
        _CREATE: ["Header", "Lines", "Payments"],
        f"{_CREATE}/Header": _HEADER,
        f"{_CREATE}/Header/OmniChannel": _OMNI,
        f"{_CREATE}/Lines": ["Create_Line"],
        f"{_CREATE}/Lines/Create_Line": _LINE,
        f"{_CREATE}/Lines/Create_Line/ItemIdentifier": ["Id", "Reference"],
        f"{_CREATE}/Payments": ["Create_Payment"],
        f"{_CREATE}/Payments/Create_Payment": [
            "Amount",
            "CurrencyId",
            "DueDate",
            "Id",
            "IsReceivedPayment",
            "MethodId",
        ],
        **_CTX_OLD,
    },
    "SaleDocumentService.CustomersReservationCreate": {
        "": [_RESERVATION, "clientContext"],
        _RESERVATION: ["Header", "Lines"],
        f"{_RESERVATION}/Header": _RESERVATION_HEADER,
        f"{_RESERVATION}/Lines": [_RESERVATION_LINE],
        f"{_RESERVATION}/Lines/{_RESERVATION_LINE}": _LINE,
        f"{_RESERVATION}/Lines/{_RESERVATION_LINE}/ItemIdentifier": ["Id", "Reference"],
        **_CTX_OLD,
    },
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
    "SaleDocumentService.GetHeaderList": {
        "": ["searchRequest", "clientContext"],
        "searchRequest": ["BeginDate", "CustomerId", "DocumentTypes", "EndDate", "Pager"],
        "searchRequest/DocumentTypes": ["SaleDocumentType"],
        "searchRequest/Pager": ["PageIndex", "PageSize"],
        **_CTX_OLD,
    },
    "SaleDocumentService.GetByKey": {
        "": ["searchRequest", "clientContext"],
        "searchRequest": ["Key"],
        "searchRequest/Key": ["Number", "Stump", "Type"],
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
    "CustomerWcfService.GetCustomerIdByReference": {
        "": ["customerReference", "clientContext"],
        **_CTX_OLD,
    },
    "CustomerWcfService.AddNewCustomer": {
        "": ["customerData", "clientContext"],
        "customerData": [
            "EmailData",
            "FirstName",
            "IsCompany",
            "IsProspect",
            "LastName",
            "PhoneData",
            "UsualStoreId",
        ],
        "customerData/EmailData": ["Email"],
        "customerData/PhoneData": ["CellularPhoneNumber"],
        **_CTX_OLD,
    },
    "CustomerWcfService.UpdateCustomer": {
        "": ["customerId", "modifiedData", "clientContext"],
        "modifiedData": ["FirstName", "LastName", "PhoneData"],
        "modifiedData/PhoneData": ["CellularPhoneNumber"],
        **_CTX_OLD,
    },
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
        "Request": ["Ids", "Paging"],
        "Request/Ids": ["string"],
        "Request/Paging": ["PageIndex", "PageSize"],
        **_CTX_NEW,
    },
}

SENT_VALUES: dict[str, dict[str, list[str]]] = {
    "SaleDocumentService.Create": {
        f"{_CREATE}/Header/OmniChannel/DeliveryType": ["PickingUpInStore"],
        f"{_CREATE}/Header/OmniChannel/FollowUpStatus": ["ToBeProcessed"],
        f"{_CREATE}/Header/OmniChannel/PaymentStatus": ["Totally", "Pending"],
        f"{_CREATE}/Header/Origin": ["ECommerce"],
        f"{_CREATE}/Header/Type": ["CustomerOrder"],
    },
    "SaleDocumentService.GetByReference": {"searchRequest/Reference/Type": _DOC_TYPES},
    "SaleDocumentService.GetByExternalReference": {"searchRequest/Type": _DOC_TYPES},
    "SaleDocumentService.GetHeaderList": {
        # receipts.DOCUMENT_TYPES: a customer's in-store receipts and web orders
        "searchRequest/DocumentTypes/SaleDocumentType": ["Receipt", "CustomerOrder"],
    },
    "SaleDocumentService.UpdateHeader": {
        "updateHeaderRequest/Identifier/Key/Type": _DOC_TYPES,
        "updateHeaderRequest/OmniChannel/FollowUpStatus": _FOLLOW_UP,
    },
    "SaleDocumentService.Cancel": {"cancelRequest/Identifier/Key/Type": _DOC_TYPES},
}

_GET_HEADER = ["Active", "InternalReference", "Key", "OmniChannel", "Status", "StoreId"]
_GET_LINE = [
    "ItemCode",
    "ItemId",
    "ItemReference",
    "Label",
    "Quantity",
    "TaxIncludedNetUnitPrice|TaxIncludedUnitPrice",
]
_KEY_READ = ["Number", "Stump|Stub", "Type"]
_SALE_HEADER = [  # mapping.sale_header: a customer's receipt or web order
    "Active",
    "CurrencyId",
    "CustomerId",
    "Date",
    "InternalReference",
    "Key",
    "Origin",
    "Status",
    "StoreId",
    "TaxExcludedTotalAmount",
    "TaxIncludedTotalAmount",
    "TotalQuantity",
]
_CUSTOMER = [  # mapping.customer: GetCustomerDetail, and each row of SearchCustomerIds
    "CustomerId",
    "EmailData",
    "FirstName",
    "LastDateUpdate|LastModificationDate",
    "LastName",
    "PhoneData",
    "UsualStoreId",
]
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
    "SaleDocumentService.Create": {"CreateResult/Key": _KEY_READ},
    "SaleDocumentService.CustomersReservationCreate": {
        "CustomersReservationCreateResult/Key": _KEY_READ,
    },
    "SaleDocumentService.GetByReference": {
        "GetByReferenceResult/Header": _GET_HEADER,
        "GetByReferenceResult/Header/Key": _KEY_READ,
        "GetByReferenceResult/Header/OmniChannel": ["CancelStatus", "FollowUpStatus"],
        "GetByReferenceResult/Lines/Get_Line": _GET_LINE,
    },
    "SaleDocumentService.GetByExternalReference": {
        "GetByExternalReferenceResult/Get_Replies/Get_Reply/Header": _GET_HEADER,
        "GetByExternalReferenceResult/Get_Replies/Get_Reply/Header/Key": _KEY_READ,
        "GetByExternalReferenceResult/Get_Replies/Get_Reply/Header/OmniChannel": [
            "CancelStatus",
            "FollowUpStatus",
        ],
        "GetByExternalReferenceResult/Get_Replies/Get_Reply/Lines/Get_Line": _GET_LINE,
    },
    "SaleDocumentService.GetHeaderList": {
        "GetHeaderListResult/Headers/Get_Header": _SALE_HEADER,
        "GetHeaderListResult/Headers/Get_Header/Key": _KEY_READ,
    },
    "SaleDocumentService.GetByKey": {
        "GetByKeyResult/Header": _SALE_HEADER,
        "GetByKeyResult/Header/Key": _KEY_READ,
        "GetByKeyResult/Lines/Get_Line": [
            "ItemCode",
            "ItemId",
            "ItemReference",
            "Label",
            "Quantity",
            "Rank",
            "TaxIncludedNetUnitPrice",
            "TaxIncludedUnitPrice",
        ],
        "GetByKeyResult/Payments/Get_Payment": ["Amount", "Code", "Currency", "Label"],
    },
    "SaleDocumentService.UpdateHeader": {},
    "SaleDocumentService.Cancel": {},
    "CustomerWcfService.SearchCustomerIds": {
        # find_customers_by_email reads CustomerId; search_customers every member of _CUSTOMER
        "SearchCustomerIdsResult/CustomerQueryData": _CUSTOMER,
        "SearchCustomerIdsResult/CustomerQueryData/EmailData": ["Email"],
        "SearchCustomerIdsResult/CustomerQueryData/PhoneData": ["CellularPhoneNumber"],
    },
    "CustomerWcfService.GetCustomerDetail": {
        "GetCustomerDetailResult": _CUSTOMER,
        "GetCustomerDetailResult/EmailData": ["Email"],
        "GetCustomerDetailResult/PhoneData": ["CellularPhoneNumber"],
    },
    "CustomerWcfService.GetCustomerIdByReference": {"": ["GetCustomerIdByReferenceResult"]},
    "CustomerWcfService.AddNewCustomer": {"": ["AddNewCustomerResult"]},
    "CustomerWcfService.UpdateCustomer": {},  # its result string is not used
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
        "GetListDetailResult/MerchandiseItems/MerchandiseItem": ["Description", "Identification"],
        "GetListDetailResult/MerchandiseItems/MerchandiseItem/Identification/Identifier": [
            "Barcode",
            "Id",
        ],
        "GetListDetailResult/Pagination": ["Count"],
    },
}
