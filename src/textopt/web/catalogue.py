"""The dashboard's texts: English words for the codes shown, and French for everything.

Keys are the English texts of the templates (and the codes of statuses, reasons, sources);
`EN` only gives words to codes. A unit test checks that every text of the templates has a
French entry.
"""

from __future__ import annotations

__all__ = ["EN", "FR"]

# Codes a user reads: statuses, reasons, sources, purposes, roles, proof keys, notices.
EN: dict[str, str] = {
    "no_consent": "no marketing consent",
    "consent_revoked": "consent withdrawn",
    "suppressed": "on the suppression list",
    "invalid_number": "no valid mobile number",
    "undeliverable": "number reported undeliverable by the provider",
    "no_receipt": "no delivery receipt came",
    "receipt_unknown": "the network's final state confirms nothing (ACCEPTD, UNKNOWN)",
    "worker_lost": "sending stopped mid-way; not sent again",
    "ambiguous_submit": "the provider never answered; not sent again",
    "not_mobile": "not a mobile number (fixed line, premium-rate or shared-cost)",
    "invalid_email": "no valid email address",
    "transactional_opt_out": "opted out of transactional messages",
    "sender_not_allowed": "sender ID refused in the country",
    "quiet_hours": "outside the allowed hours",
    "sunday": "Sunday",
    "closed_day": "day without marketing",
    "holiday": "public holiday",
    "frequency_cap": "frequency cap reached",
    "personal_limit": "the person's own limit reached (preference centre)",
    "no_window": "no allowed time before expiry",
    "too_long": "message longer than the workspace allows",
    "soft-opt-in": "soft opt-in",
    "unsubscribe-link": "unsubscribe link",
    "provider": "SMS provider",
    "error_code": "error code",
    "message_id": "message",
    "form_url": "form address",
    "ip": "IP address",
    "user_agent": "browser",
    "consent_text_version": "text version",
    "signup_list": "signup list",
    "double_opt_in": "double opt-in",
    "confirms_event": "confirms event",
    "first_name": "first name",
    "last_name": "last name",
    "is_customer": "customer",
    "consent_sms_marketing": "SMS marketing consent",
    "consent_at": "consent date",
    "consent_source": "consent source",
    "consent_ip": "consent IP",
    "inbound.stored": "kept for a person to read",
    "inbound.stopped": "STOP applied: consent withdrawn, number suppressed, confirmed",
    "inbound.already_stopped": "STOP already applied: nothing new, not answered again",
    "inbound.restarted": "START applied: consent given again, STOP lifted, confirmed",
    "inbound.start_refused": "START refused: an erasure, complaint or operator's block stays",
    "inbound.start_without_contact": "START: STOP lifted, no contact to consent",
    "inbound.helped": "help text sent",
    "inbound.confirmed": "double opt-in confirmed",
    "inbound.nothing_to_confirm": "nothing to confirm",
    "inbound.not_a_number": "sender is not a number: nothing to suppress or answer",
    "inbound.erased": "erased before it was applied",
    "inbound.failed": "could not be applied; the error is kept",
    "inbound.pending": "stored, being applied",
    "keyword.stop": "STOP",
    "keyword.start": "START",
    "keyword.help": "HELP",
    "keyword.confirm": "confirmation",
    "keyword.none": "message",
    "notice.launched": "The campaign is launched: messages go out as hours and caps allow.",
    "notice.paused": "The campaign is paused.",
    "notice.resumed": "The campaign resumes.",
    "notice.cancelled": "The campaign is cancelled.",
    "notice.created": "Draft saved. Here is what launching it would do.",
    # drafts: notices
    "notice.edited": "Draft saved. Here is what launching it would do.",
    "notice.duplicated": (
        "A new draft, copied from the campaign: change what you need, then launch it."
    ),
    "notice.deleted": "The draft is deleted.",
    "notice.not_launched": "The campaign was not launched: see why below.",
    "notice.not_draft": (
        "Only a draft can be changed, deleted or launched: duplicate the campaign to start again."
    ),
    "in-store": "in store",
    "description": "description",
    "consent_email_marketing": "email marketing consent",
    # import issues (rejected rows and warnings), by code; the rejects file says row and column
    "import.invalid_number": "the phone number is not valid",
    "import.no_address": "neither a phone number nor an email address",
    "import.duplicate_in_file": "already earlier in the file",
    "import.bad_email": "email address not valid (the row's phone is kept)",
    "import.unknown_timezone": "unknown time zone",
    "import.bad_consent_at": "consent date not readable",
    "import.bad_value": "a country, language, region, tag or customer cell not understood",
    "import.bad_row": "more cells than the header has columns",
    "import.consent_column_unread": "a column looks like consent but is not read as consent",
    "import.consent_incomplete": "consent without date or source: not recorded",
    "import.consent_unclear": "consent cell neither yes nor no: not recorded",
    "import.consent_in_future": "consent date in the future: not recorded",
    "import.consent_without_address": "consent for a channel the row has no address for",
    "import.suppressed": "on the suppression list: consent not recorded",
    "import.revoked_later": "consent withdrawn after the file's date: not recorded",
    "import.soft_opt_in_not_customer": "soft opt-in for someone who is not a customer",
    "import.not_mobile": "not a mobile number: kept for email, without SMS consent",
    "import.consent_ip_ignored": "consent IP not readable: consent recorded without it",
    "import.consent_source_unknown": "consent source not recognised: recorded as import, "
    "the words kept",
    "import.unknown_text_version": "consent text version not registered: consent recorded",
    # why a link address is dead for recipients (links/reach.py)
    "reach.no_host": "no host name in the address",
    "reach.loopback": "an address of this machine only",
    "reach.private": "an address of a private network",
    "reach.local_name": "a name only the local network knows",
    "reach.reserved_name": "a name reserved for examples and tests",
    # the rules of a pack, on Réglages
    "rule.hours": "hours",
    "rule.holidays": "public holidays",
    "rule.consent": "consent",
    "rule.transactional": "transactional messages",
    "rule.sender": "sender ID",
    "rule.footer": "STOP instruction",
    "confidence.H": "official text",
    "confidence.M": "reputable secondary source",
    "confidence.L": "vendor or blog",
    "sms": "SMS",
    # why a message was not sent or not confirmed (web/reasons.py)
    "reason.expired": "could not be sent before its expiry",
    "provider_error": "the provider failed again and again: given up",
    "provider_refused": "the provider refused the message",
    "receipt_failed": "the network could not deliver it",
    "receipt_expired": "the network gave up before the phone was reached",
    "campaign_cancelled": "the campaign was cancelled before it left",
    "reason.sunday": "a Sunday: no marketing",
    "inbound_message_id": "SMS received",
    "received_at": "received at",
    "file": "file",
    "line": "line",
    "text": "text",
    "import": "import",
    "form": "signup form",
    "keyword": "SMS keyword",
    "api": "API",
    "cli": "command line",
    # events (the contact page)
    "event_source.api": "API",
    "event_source.cli": "command line",
    "event_source.import": "CSV import",
    "slug": "address",
}

FR: dict[str, str] = {
    # navigation and layout
    "Skip to content": "Aller au contenu",
    "Main menu": "Menu principal",
    "Overview": "Vue d’ensemble",
    "Contacts": "Contacts",
    "Import": "Import",
    "Segments": "Segments",
    "Campaigns": "Campagnes",
    "Settings": "Réglages",
    "Sign in": "Connexion",
    "Sign out": "Se déconnecter",
    "Email": "E-mail",
    "Password": "Mot de passe",
    "Back to the overview": "Retour à la vue d’ensemble",
    "Not allowed": "Action non permise",
    "Page not found": "Page introuvable",
    "Not possible now": "Impossible pour le moment",
    "Check what you entered": "Vérifiez votre saisie",
    "Too many requests": "Trop de demandes",
    "Something went wrong": "Une erreur est survenue",
    "This address leads nowhere.": "Cette adresse ne mène nulle part.",
    "Some fields are missing or invalid.": "Des champs manquent ou sont invalides.",
    "choose a CSV file": "choisissez un fichier CSV",
    "this form has expired: reload the page and submit it again": (
        "ce formulaire a expiré : rechargez la page et envoyez-le à nouveau"
    ),
    "too many failed sign-ins for this account: try again later": (
        "trop d’échecs de connexion pour ce compte : réessayez plus tard"
    ),
    "wrong email or password, or the account is disabled": (
        "e-mail ou mot de passe incorrect, ou compte désactivé"
    ),
    # overview
    "SMS sent, last 30 days": "SMS envoyés, 30 derniers jours",
    "held back by the rules": "retenus par les règles",
    "opt-out rate": "taux de désinscription",
    "Delivery funnel": "Entonnoir de livraison",
    "Sends per hour, last 24 hours": "Envois par heure, dernières 24 heures",
    "Sends per hour": "Envois par heure",
    "Recent campaigns": "Campagnes récentes",
    "No campaign yet.": "Aucune campagne pour l’instant.",
    "Write the first one": "Écrire la première",
    "Name": "Nom",
    "Status": "État",
    "Created": "Créée",
    "decided": "décidés",
    "waiting": "en attente",
    "sent": "envoyés",
    "delivered": "livrés",
    "planned": "prévus",
    "clicked": "ont cliqué",
    # contacts
    "Search by name, number or email": "Chercher par nom, numéro ou e-mail",
    "Search": "Chercher",
    "Tag": "Étiquette",
    "Tags": "Étiquettes",
    "Number": "Numéro",
    "Country": "Pays",
    "No contact matches.": "Aucun contact ne correspond.",
    "Next page": "Page suivante",
    "Consent proof (printable)": "Preuve du consentement (imprimable)",
    "Details": "Fiche",
    "Time zones": "Fuseaux horaires",
    "Language": "Langue",
    "Customer": "Client",
    "yes": "oui",
    "no": "non",
    "Current consent": "Consentement actuel",
    "No consent on record.": "Aucun consentement enregistré.",
    "On the suppression list": "Sur la liste d’opposition",
    "Consent history": "Historique du consentement",
    "Messages": "Messages",
    "Decided": "Décidé le",
    "Campaign": "Campagne",
    "Text": "Texte",
    "clicks": "clics",
    "No message yet.": "Aucun message pour l’instant.",
    "Replies received": "Réponses reçues",
    "Received": "Reçue le",
    "Keyword": "Mot-clé",
    "Action": "Action",
    "No reply received.": "Aucune réponse reçue.",
    "When": "Quand",
    "What": "Quoi",
    "How": "Comment",
    "Text version": "Version du texte",
    "Proof": "Preuve",
    "recorded": "enregistré le",
    "erased": "effacée",
    "No consent event.": "Aucun événement de consentement.",
    # consent proof
    "Consent proof": "Preuve du consentement",
    "Print": "Imprimer",
    "Back to the contact": "Retour au contact",
    "Data controller": "Responsable du traitement",
    "Person": "Personne",
    "Produced on": "Produite le",
    "by": "par",
    "Ledger integrity": "Intégrité du registre",
    "the hash chain verifies": "la chaîne d’empreintes est vérifiée",
    "the hash chain does NOT verify": "la chaîne d’empreintes N’EST PAS vérifiée",
    "events": "événements",
    "Every event, in ledger order": "Tous les événements, dans l’ordre du registre",
    "Each event is chained to the previous one by a SHA-256 hash; the proof's digest is part "
    "of the chain.": (
        "Chaque événement est chaîné au précédent par une empreinte SHA-256 ; l’empreinte de "
        "la preuve fait partie de la chaîne."
    ),
    "Texts the person was shown": "Textes présentés à la personne",
    "Confirming and withdrawing replies": "Réponses de confirmation et de retrait",
    # import
    "Import contacts": "Importer des contacts",
    "CSV file (`,` `;` or tab; UTF-8 or Latin-1)": (
        "Fichier CSV (`,` `;` ou tabulation ; UTF-8 ou Latin-1)"
    ),
    "Country of numbers written without +": "Pays des numéros écrits sans +",
    "Upload and check the columns": "Envoyer et vérifier les colonnes",
    "Columns are recognised by name (phone, mobile, portable, prénom, nom, email, tags, "
    "consent_sms_marketing…); any other column becomes an attribute.": (
        "Les colonnes sont reconnues par leur nom (téléphone, portable, prénom, nom, email, "
        "tags, consent_sms_marketing…) ; toute autre colonne devient un attribut."
    ),
    "Column mapping": "Correspondance des colonnes",
    "Encoding": "Encodage",
    "separator": "séparateur",
    "rows": "lignes",
    "Column in the file": "Colonne du fichier",
    "Read as": "Lue comme",
    "First values": "Premières valeurs",
    "attribute": "attribut",
    "To map a column differently, rename its header in the file and upload it again.": (
        "Pour lire une colonne autrement, renommez son en-tête dans le fichier et envoyez-le "
        "à nouveau."
    ),
    "Import these contacts": "Importer ces contacts",
    # an upload left at its mapping is deleted after upload_keep_hours, or by an erasure
    "this upload is gone: upload the file again": (
        "ce fichier n'est plus disponible : envoyez-le à nouveau"
    ),
    "no rejects file for this import (none, or expired)": (
        "aucun fichier de rejets pour cet import (aucun rejet, ou fichier expiré)"
    ),
    "Cancel": "Annuler",
    "Import finished": "Import terminé",
    "rows read": "lignes lues",
    "created": "créés",
    "updated": "mis à jour",
    "rejected": "refusées",
    "consents recorded": "consentements enregistrés",
    "Rejected rows by reason": "Lignes refusées, par raison",
    "Warnings by reason": "Avertissements, par raison",
    "Download the rejected rows (CSV with the reason of each)": (
        "Télécharger les lignes refusées (CSV avec la raison de chacune)"
    ),
    "correct them and import that file as is.": "corrigez-les et importez ce fichier tel quel.",
    "See the contacts": "Voir les contacts",
    "Build a segment": "Créer un segment",
    # segments
    "Filter": "Filtre",
    "Contacts now": "Contacts aujourd’hui",
    "No segment yet.": "Aucun segment pour l’instant.",
    "New segment": "Nouveau segment",
    "For example": "Par exemple",
    "Save the segment": "Enregistrer le segment",
    "contacts": "contacts",
    # composer
    "New campaign": "Nouvelle campagne",
    "Campaign name": "Nom de la campagne",
    "Audience (saved segment)": "Audience (segment enregistré)",
    "Purpose": "Finalité",
    "marketing": "marketing",
    "transactional": "transactionnel",
    "Brand named in the message": "Marque nommée dans le message",
    "Sender ID (optional, 11 letters or digits)": ("Émetteur (facultatif, 11 lettres ou chiffres)"),
    "Start (workspace time; empty: at launch)": "Début (heure de l’espace ; vide : au lancement)",
    "Smart encoding (replace look-alike characters to stay in GSM-7)": (
        "Encodage intelligent (remplacer les caractères sosies pour rester en GSM-7)"
    ),
    "Track links (one short link per recipient on": (
        "Suivre les liens (un lien court par destinataire sur"
    ),
    "Message": "Message",
    "Variables": "Variables",
    "segment(s)": "segment(s)",
    "recipients": "destinataires",
    "estimated cost": "coût estimé",
    "These characters force UCS-2 and double the cost:": (
        "Ces caractères imposent l’UCS-2 et doublent le coût :"
    ),
    "Message with the characters forcing UCS-2 highlighted": (
        "Message avec les caractères imposant l’UCS-2 surlignés"
    ),
    "Smart encoding sends it in": "L’encodage intelligent l’envoie en",
    "Use the suggestion in the text": "Utiliser la suggestion dans le texte",
    "Preview on real contacts": "Aperçu sur de vrais contacts",
    "Type a message to see it as recipients will.": (
        "Tapez un message pour le voir comme les destinataires."
    ),
    "Save the draft and preview": "Enregistrer le brouillon et prévisualiser",
    # campaign
    "Campaigns list": "Liste des campagnes",
    "Audience": "Audience",
    "Brand": "Marque",
    "Tracked links": "Liens suivis",
    "Preview: what launching now would do": "Aperçu : ce que ferait un lancement maintenant",
    "in the audience": "dans l’audience",
    "sent now": "envoyés maintenant",
    "deferred": "différés",
    "excluded": "exclus",
    "segments": "segments",
    "Excluded, by reason": "Exclus, par raison",
    "Nobody is excluded.": "Personne n’est exclu.",
    "Deferred, by reason": "Différés, par raison",
    "Nothing deferred.": "Rien n’est différé.",
    "people already have a marketing message planned on": "personnes ont déjà un message "
    "marketing prévu le",
    "; the frequency cap will hold this one back for them.": " : le plafond de fréquence "
    "retiendra celui-ci pour elles.",
    "Smart encoding saves": "L’encodage intelligent économise",
    "Longest message": "Message le plus long",
    "Send times by local hour": "Heures d’envoi, heure locale",
    "Shaded: hours when marketing may not be sent": (
        "En grisé : heures où le marketing ne peut pas partir"
    ),
    "Nothing to send.": "Rien à envoyer.",
    "Launch the campaign": "Lancer la campagne",
    # drafts: template errors, edit, duplicate, delete, the launch's confirmation
    "“%(a)s” is not expected here": "« %(a)s » n’est pas attendu ici",
    "“%(b)s” where “%(a)s” was expected": "« %(b)s » là où « %(a)s » était attendu",
    "the template ends before “%(a)s”": "le modèle se termine avant « %(a)s »",
    "a block is never closed": "un bloc n’est jamais fermé",
    "an expression is missing": "une expression manque",
    "there is no tag named “%(a)s”": "il n’existe pas de balise nommée « %(a)s »",
    "Line %(line)s: the template cannot be read: %(detail)s.": (
        "Ligne %(line)s : le modèle ne peut pas être lu : %(detail)s."
    ),
    "There is no filter named “%(name)s”.": "Il n’existe pas de filtre nommé « %(name)s ».",
    "Line %(line)s: there is no filter named “%(name)s”.": (
        "Ligne %(line)s : il n’existe pas de filtre nommé « %(name)s »."
    ),
    "The variable “%(name)s” is missing: check its spelling (first_name, last_name, "
    "attributes.…) or write %(example)s if it is optional.": (
        "La variable « %(name)s » manque : vérifiez son orthographe (first_name, last_name, "
        "attributes.…) ou écrivez %(example)s si elle est facultative."
    ),
    "The template stops before its end: it loops or writes too much.": (
        "Le modèle s’arrête avant sa fin : il boucle ou écrit trop."
    ),
    "The template fails when it runs: %(detail)s": "Le modèle échoue à l’exécution : %(detail)s",
    "The message is %(segments)s segments long: at most %(limit)s are allowed.": (
        "Le message fait %(segments)s segments : %(limit)s au plus sont permis."
    ),
    " (for %(who)s)": " (pour %(who)s)",
    "Choose the audience: a saved segment (none is taken for you).": (
        "Choisissez l’audience : un segment enregistré (aucun n’est pris d’office)."
    ),
    "copy": "copie",
    "Nothing would be sent: the audience is empty. Choose another segment.": (
        "Rien ne serait envoyé : l’audience est vide. Choisissez un autre segment."
    ),
    "Nothing would be sent: everyone in the audience is excluded (reasons below).": (
        "Rien ne serait envoyé : toute l’audience est exclue (raisons ci-dessous)."
    ),
    "Edit the draft": "Modifier le brouillon",
    "— choose a segment —": "— choisissez un segment —",
    "Its own filter": "Son propre filtre",
    "Save the changes and preview": "Enregistrer les modifications et prévisualiser",
    "Back to the preview": "Retour à l’aperçu",
    "Duplicate into a new draft": "Dupliquer en un nouveau brouillon",
    "Delete the draft": "Supprimer le brouillon",
    "Delete this draft for good?": "Supprimer ce brouillon pour de bon ?",
    "The message has errors: nothing can be sent": (
        "Le message contient des erreurs : rien ne peut être envoyé"
    ),
    "Correct the message": "Corriger le message",
    "What the launch will do": "Ce que fera le lancement",
    "Recipients": "Destinataires",
    "messages to send": "messages à envoyer",
    "at the start": "au départ",
    "SMS segments": "Segments SMS",
    "Estimated cost": "Coût estimé",
    "First send": "Premier envoi",
    "Last send": "Dernier envoi",
    "then about": "puis environ",
    "min at the account's rate": "min au débit du compte",
    "Confirm the launch": "Confirmer le lancement",
    "notice.edited": "Brouillon enregistré. Voici ce que ferait son lancement.",
    "notice.duplicated": (
        "Un nouveau brouillon, copié de la campagne : changez ce qu’il faut, puis lancez-le."
    ),
    "notice.deleted": "Le brouillon est supprimé.",
    "notice.not_launched": "La campagne n’a pas été lancée : voyez pourquoi ci-dessous.",
    "notice.not_draft": (
        "Seul un brouillon peut être modifié, supprimé ou lancé : dupliquez la campagne pour "
        "recommencer."
    ),
    "Report": "Rapport",
    "people": "personnes",
    "opt-outs": "désinscriptions",
    "cost so far": "coût à ce jour",
    "Failures by reason": "Échecs, par raison",
    "No failure.": "Aucun échec.",
    "Unconfirmed, by reason": "Non confirmés, par raison",
    "No unconfirmed message.": "Aucun message non confirmé.",
    "Clicks by link": "Clics par lien",
    "No click yet.": "Aucun clic pour l’instant.",
    "Pause": "Mettre en pause",
    "Resume": "Reprendre",
    "Cancel the campaign": "Annuler la campagne",
    # settings
    "Settings come from the configuration file and TEXTOPT_* environment variables; this "
    "page shows them.": (
        "Les réglages viennent du fichier de configuration et des variables d’environnement "
        "TEXTOPT_* ; cette page les montre."
    ),
    "Brand and identity": "Marque et identité",
    "STOP number": "Numéro STOP",
    "Country of national numbers": "Pays des numéros nationaux",
    "Workspace time zone": "Fuseau de l’espace",
    "Link domain": "Domaine des liens",
    "Frequency caps": "Plafonds de fréquence",
    "Marketing per contact per day": "Marketing par contact et par jour",
    "Marketing per contact per 30 days": "Marketing par contact sur 30 jours",
    "no workspace cap": "pas de plafond de l’espace",
    "SMS and email share one budget": "SMS et e-mail partagent un budget",
    "Provider accounts": "Comptes d’opérateurs",
    "Account": "Compte",
    "Kind": "Type",
    "Rate (segments/s)": "Débit (segments/s)",
    "Default": "Par défaut",
    "Compliance pack of": "Règles applicables pour",
    "Rule": "Règle",
    "Value": "Valeur",
    "Source": "Source",
    "Signup lists": "Listes d’inscription",
    "Public page": "Page publique",
    "Consent text": "Texte de consentement",
    "Countries": "Pays",
    "No signup list yet.": "Aucune liste d’inscription pour l’instant.",
    "New signup list": "Nouvelle liste d’inscription",
    "Address (/s/…)": "Adresse (/s/…)",
    "Consent text version": "Version du texte de consentement",
    "Countries (e.g. FR,BE; empty: the workspace's)": (
        "Pays (par ex. FR,BE ; vide : ceux de l’espace)"
    ),
    "Create the list": "Créer la liste",
    "Users": "Utilisateurs",
    "disabled": "désactivé",
    # public signup
    "Mobile number": "Numéro de mobile",
    "You will receive an SMS asking you to confirm.": (
        "Vous recevrez un SMS vous demandant de confirmer."
    ),
    "Sign up": "S’inscrire",
    "Thank you. If this number can receive our messages, an SMS is on its way to": (
        "Merci. Si ce numéro peut recevoir nos messages, un SMS part vers le"
    ),
    "Reply %(word)s to that SMS to confirm. Without your reply you will receive nothing.": (
        "Répondez %(word)s à ce SMS pour confirmer. Sans votre réponse, vous ne recevrez rien."
    ),
    "Tick the box to agree: nothing is sent without it.": (
        "Cochez la case pour donner votre accord : rien n’est envoyé sans elle."
    ),
    "too many signups": "trop d’inscriptions depuis cette connexion ou vers ce numéro",
    # codes
    "admin": "administrateur",
    "marketer": "marketeur",
    "viewer": "lecteur",
    "draft": "brouillon",
    "scheduled": "programmée",
    "running": "en cours",
    "paused": "en pause",
    "completed": "terminée",
    "cancelled": "annulé",
    "queued": "en file",
    "sending": "en envoi",
    "submitted": "transmis",
    "failed": "échoué",
    "expired": "expiré",
    "blocked": "bloqué",
    "unknown": "inconnu",
    "requested": "demandé (en attente du OUI)",
    "granted": "accordé",
    "confirmed": "confirmé",
    "revoked": "retiré",
    "import": "import",
    "form": "formulaire",
    "keyword": "mot-clé SMS",
    "api": "API",
    "cli": "ligne de commande",
    "soft-opt-in": "client existant (soft opt-in)",
    "unsubscribe-link": "lien de désinscription",
    "no_consent": "pas de consentement marketing",
    "consent_revoked": "consentement retiré",
    "suppressed": "sur la liste d’opposition",
    "invalid_number": "pas de numéro mobile valide",
    "undeliverable": "numéro signalé injoignable par l’opérateur",
    "no_receipt": "aucun accusé de réception reçu",
    "receipt_unknown": "l’état final du réseau ne confirme rien (ACCEPTD, UNKNOWN)",
    "worker_lost": "envoi interrompu en cours ; non renvoyé",
    "ambiguous_submit": "l’opérateur n’a jamais répondu ; non renvoyé",
    "not_mobile": "pas un numéro mobile (fixe, surtaxé ou à coût partagé)",
    "Undeliverable number since": "Numéro injoignable depuis le",
    "permanent failures in a row, the last": "échecs définitifs d’affilée, le dernier",
    "A new number, or textopt contacts deliverable once it works, clears it.": (
        "Un nouveau numéro, ou textopt contacts deliverable une fois qu’il fonctionne, "
        "lève ce blocage."
    ),
    "Permanent failures in a row of this number": "Échecs définitifs d’affilée de ce numéro",
    "error_code": "code d’erreur",
    "message_id": "message n°",
    "invalid_email": "pas d’adresse e-mail valide",
    "transactional_opt_out": "refuse les messages transactionnels",
    "sender_not_allowed": "émetteur refusé dans le pays",
    "quiet_hours": "hors des heures permises",
    "sunday": "dimanche",
    "closed_day": "jour sans marketing",
    "holiday": "jour férié",
    "frequency_cap": "plafond de fréquence atteint",
    "personal_limit": "limite choisie par la personne atteinte (centre de préférences)",
    "no_window": "aucun créneau permis avant expiration",
    "too_long": "message plus long que l’espace de travail ne le permet",
    "form_url": "adresse du formulaire",
    "ip": "adresse IP",
    "user_agent": "navigateur",
    "consent_text_version": "version du texte",
    "signup_list": "liste d’inscription",
    "double_opt_in": "double opt-in",
    "confirms_event": "confirme l’événement",
    "file": "fichier",
    "line": "ligne",
    "inbound_message_id": "SMS reçu n°",
    "provider": "opérateur",
    "text": "texte",
    "received_at": "reçu le",
    "phone": "téléphone",
    "first_name": "prénom",
    "last_name": "nom",
    "email": "e-mail",
    "language": "langue",
    "country": "pays",
    "region": "région",
    "timezone": "fuseau",
    "tags": "étiquettes",
    "is_customer": "client",
    "consent_sms_marketing": "consentement SMS marketing",
    "consent_at": "date du consentement",
    "consent_source": "source du consentement",
    "consent_ip": "IP du consentement",
    "inbound.stored": "conservé pour lecture",
    "inbound.stopped": "STOP appliqué : consentement retiré, numéro bloqué, confirmation envoyée",
    "inbound.already_stopped": "STOP déjà appliqué : rien de nouveau, pas de nouvelle réponse",
    "inbound.restarted": "START appliqué : consentement redonné, STOP levé, confirmation envoyée",
    "inbound.start_refused": "START refusé : un effacement, une plainte ou un blocage demeure",
    "inbound.start_without_contact": "START : STOP levé, aucun contact à inscrire",
    "inbound.helped": "texte d’aide envoyé",
    "inbound.confirmed": "double opt-in confirmé",
    "inbound.nothing_to_confirm": "rien à confirmer",
    "inbound.not_a_number": "l’expéditeur n’est pas un numéro : rien à bloquer ni à répondre",
    "inbound.erased": "effacé avant d’être appliqué",
    "inbound.failed": "n’a pas pu être appliqué ; l’erreur est conservée",
    "inbound.pending": "enregistré, en cours d’application",
    "keyword.stop": "STOP",
    "keyword.start": "START",
    "keyword.help": "AIDE",
    "keyword.confirm": "confirmation",
    "keyword.none": "message",
    "notice.launched": (
        "La campagne est lancée : les messages partent selon les heures et plafonds."
    ),
    "notice.paused": "La campagne est en pause.",
    "notice.resumed": "La campagne reprend.",
    "notice.cancelled": "La campagne est annulée.",
    "notice.created": "Brouillon enregistré. Voici ce que ferait son lancement.",
    "in-store": "en magasin",
    "description": "description",
    "consent_email_marketing": "consentement e-mail marketing",
    "import.invalid_number": "le numéro de téléphone n’est pas valide",
    "import.no_address": "ni numéro de téléphone ni adresse e-mail",
    "import.duplicate_in_file": "déjà plus haut dans le fichier",
    "import.bad_email": "adresse e-mail non valide (le téléphone de la ligne est gardé)",
    "import.unknown_timezone": "fuseau horaire inconnu",
    "import.bad_consent_at": "date de consentement illisible",
    "import.bad_value": "une cellule pays, langue, région, étiquette ou client incomprise",
    "import.bad_row": "plus de cellules que l’en-tête n’a de colonnes",
    "import.consent_column_unread": (
        "une colonne ressemble à un consentement mais n’est pas lue comme tel"
    ),
    "import.consent_incomplete": "consentement sans date ou sans source : non enregistré",
    "import.consent_unclear": "cellule de consentement ni oui ni non : non enregistré",
    "import.consent_in_future": "date de consentement dans le futur : non enregistré",
    "import.consent_without_address": (
        "consentement pour un canal dont la ligne n’a pas l’adresse"
    ),
    "import.suppressed": "sur la liste d’opposition : consentement non enregistré",
    "import.revoked_later": "consentement retiré après la date du fichier : non enregistré",
    "import.soft_opt_in_not_customer": "soft opt-in pour quelqu’un qui n’est pas client",
    "import.not_mobile": "pas un numéro mobile : gardé pour l’e-mail, sans consentement SMS",
    "import.consent_ip_ignored": "IP du consentement illisible : consentement enregistré sans",
    "import.consent_source_unknown": (
        "source du consentement non reconnue : enregistrée comme import, le texte gardé"
    ),
    "import.unknown_text_version": (
        "version du texte de consentement non enregistrée : consentement enregistré"
    ),
    # settings: where links lead
    "Public address": "Adresse publique",
    "Links in messages start with %(base)s, which recipients cannot open (%(why)s): set "
    "public_base_url (and link_domain) to the address the public reaches this server at.": (
        "Les liens des messages commencent par %(base)s, que les destinataires ne peuvent pas "
        "ouvrir (%(why)s) : réglez public_base_url (et link_domain) sur l’adresse publique "
        "de ce serveur."
    ),
    "reach.no_host": "pas de nom d’hôte dans l’adresse",
    "reach.loopback": "une adresse de cette machine seulement",
    "reach.private": "une adresse d’un réseau privé",
    "reach.local_name": "un nom connu du seul réseau local",
    "reach.reserved_name": "un nom réservé aux exemples et aux tests",
    # the rules of a pack, on Réglages
    "Rules in force for numbers of %(region)s (pack %(pack)s)": (
        "Règles en vigueur pour les numéros de %(region)s (pack %(pack)s)"
    ),
    "rule.hours": "horaires",
    "rule.holidays": "jours fériés",
    "rule.consent": "consentement",
    "rule.transactional": "messages transactionnels",
    "rule.sender": "émetteur",
    "rule.footer": "mention STOP",
    "confidence.H": "texte officiel",
    "confidence.M": "source secondaire fiable",
    "confidence.L": "fournisseur ou blog",
    "sms": "SMS",
    "Mon": "lun.",
    "Tue": "mar.",
    "Wed": "mer.",
    "Thu": "jeu.",
    "Fri": "ven.",
    "Sat": "sam.",
    "Sun": "dim.",
    "every day": "tous les jours",
    "no day": "aucun jour",
    " and ": " et ",
    "marketing %(days)s, %(start)s–%(end)s, recipient's local time": (
        "marketing %(days)s, %(start)s–%(end)s, heure locale du destinataire"
    ),
    "no marketing on public holidays (%(country)s)": (
        "pas de marketing les jours fériés (%(country)s)"
    ),
    "the recipient's country": "pays du destinataire",
    "public holidays allowed": "jours fériés permis",
    "%(channel)s: consent or soft opt-in": "%(channel)s : consentement ou client existant",
    "%(channel)s: consent only": "%(channel)s : consentement exprès seulement",
    "no consent needed; exempt from %(what)s": (
        "pas de consentement requis ; exemptés de : %(what)s"
    ),
    "hours": "horaires",
    "caps": "plafonds",
    "nothing": "rien",
    "numeric": "numériques",
    "alphanumeric": "alphanumériques",
    "%(kinds)s senders, at most %(n)s characters": (
        "émetteurs %(kinds)s, %(n)s caractères au plus"
    ),
    "no sender ID accepted": "aucun émetteur accepté",
    "; blocked: %(names)s": " ; bloqués : %(names)s",
    "STOP instruction required (%(text)s)": "mention STOP obligatoire (%(text)s)",
    "no STOP instruction required": "mention STOP non obligatoire",
    "cap %(n)s": "plafond %(n)s",
    "at most %(n)s per %(hours)s h (%(channels)s)": "au plus %(n)s par %(hours)s h (%(channels)s)",
    "; ": " ; ",
    # why a message was not sent or not confirmed (web/reasons.py)
    "reason.expired": "n’a pas pu partir avant son expiration",
    "provider_error": "l’opérateur a échoué à chaque essai : abandonné",
    "provider_refused": "l’opérateur a refusé le message",
    "receipt_failed": "le réseau n’a pas pu le remettre",
    "receipt_expired": "le réseau a renoncé avant d’atteindre le téléphone",
    "campaign_cancelled": "la campagne a été annulée avant son départ",
    " (error code %(code)s)": " (code d’erreur %(code)s)",
    "error code %(code)s": "code d’erreur %(code)s",
    # plurals: the singular of each counted word (web/rendering.py `plural`)
    "segment": "segment",
    "click": "clic",
    "person": "personne",
    "event": "événement",
    "row": "ligne",
    "contact": "contact",
    "comma": "virgule",
    "semicolon": "point-virgule",
    "tab": "tabulation",
    "vertical bar": "barre verticale",
    # domain errors shown on pages, as patterns (web/error_sentences.py); `raw` values stay as typed
    "column %(n)s: %(what)s\n%(raw_filter)s": "colonne %(n)s : %(what)s\n%(raw_filter)s",
    "the filter is empty; write all to select every contact": (
        "le filtre est vide ; écrivez all pour choisir tous les contacts"
    ),
    'this ")" closes nothing': "cette « ) » ne ferme rien",
    'expected "and" or "or" before %(what)s': "« and » ou « or » attendu avant %(what)s",
    "expected a filter term but found %(what)s": (
        "un terme de filtre était attendu, mais voici %(what)s"
    ),
    "expected a filter term before %(what)s": "un terme de filtre était attendu avant %(what)s",
    "the end of the filter": "la fin du filtre",
    "the text %(raw_text)s": "le texte %(raw_text)s",
    'unknown term "%(word)s"; did you mean "%(hint)s"?': (
        "terme inconnu « %(word)s » ; vouliez-vous dire « %(hint)s » ?"
    ),
    'unknown term "%(word)s": expected e.g. tag:vip, customer, or a comparison like '
    'first_name = "Bob"': (
        "terme inconnu « %(word)s » : attendu par ex. tag:vip, customer, ou une comparaison "
        'comme first_name = "Bob"'
    ),
    'unknown keyword "%(word)s"; did you mean "%(hint)s"?': (
        "mot-clé inconnu « %(word)s » ; vouliez-vous dire « %(hint)s » ?"
    ),
    'unknown keyword "%(word)s" (keywords: %(raw_list)s)': (
        "mot-clé inconnu « %(word)s » (mots-clés : %(raw_list)s)"
    ),
    '; did you mean "%(word)s"?': " ; vouliez-vous dire « %(word)s » ?",
    'expected ":" after "%(word)s" (e.g. %(raw_example)s)': (
        "« : » attendu après « %(word)s » (par ex. %(raw_example)s)"
    ),
    'expected an operator (= != < <= > >= ~ in) after "%(word)s" but found %(what)s': (
        "un opérateur (= != < <= > >= ~ in) était attendu après « %(word)s », mais voici %(what)s"
    ),
    'a field is compared with an operator: write %(raw_example)s = "..."': (
        'un champ se compare avec un opérateur : écrivez %(raw_example)s = "..."'
    ),
    'expected a value after "%(after)s" but found %(what)s': (
        "une valeur était attendue après « %(after)s », mais voici %(what)s"
    ),
    'expected a value after "%(after)s" but found %(what)s (quote it to mean the text: '
    "%(raw_quoted)s)": (
        "une valeur était attendue après « %(after)s », mais voici %(what)s (mettez-la entre "
        "guillemets pour dire ce texte : %(raw_quoted)s)"
    ),
    'expected ")" to close the "(" at column %(n)s but found %(what)s': (
        "« ) » attendue pour fermer la « ( » de la colonne %(n)s, mais voici %(what)s"
    ),
    '"%(raw_text)s" is not a two-letter country code (e.g. FR, BE)': (
        "« %(raw_text)s » n’est pas un code pays à deux lettres (par ex. FR, BE)"
    ),
    '"%(raw_text)s" is not a language code (e.g. fr, en, fr-ca)': (
        "« %(raw_text)s » n’est pas un code de langue (par ex. fr, en, fr-ca)"
    ),
    'unknown channel "%(word)s"%(hint)s (channels: %(raw_list)s)': (
        "canal inconnu « %(word)s »%(hint)s (canaux : %(raw_list)s)"
    ),
    'unknown field "%(word)s"%(hint)s (fields: %(raw_list)s)': (
        "champ inconnu « %(word)s »%(hint)s (champs : %(raw_list)s)"
    ),
    'unknown consent status "%(word)s"%(hint)s (statuses: %(raw_list)s)': (
        "état de consentement inconnu « %(word)s »%(hint)s (états : %(raw_list)s)"
    ),
    'text values use double quotes: "like this"': (
        'les textes s’écrivent entre guillemets droits : "comme ceci"'
    ),
    'this text is never closed: add the missing "': (
        'ce texte n’est jamais fermé : ajoutez le " manquant'
    ),
    '"%(raw_text)s" is not a period like 90d, 6w, 18m or 2y': (
        "« %(raw_text)s » n’est pas une durée comme 90d, 6w, 18m ou 2y"
    ),
    '%(name)s takes a date like 2026-01-31; "%(raw_text)s" is not one': (
        "%(name)s attend une date comme 2026-01-31 ; « %(raw_text)s » n’en est pas une"
    ),
    '"%(raw_text)s" is not a date in the calendar': (
        "« %(raw_text)s » n’est pas une date du calendrier"
    ),
    'unexpected "!": write "not" to negate, "!=" for unequal': (
        "« ! » inattendu : écrivez « not » pour nier, « != » pour « différent de »"
    ),
    "a tag cannot be empty": "une étiquette ne peut pas être vide",
    "%(name)s takes one value, not a list": "%(name)s prend une seule valeur, pas une liste",
    "%(raw_source)s has neither a phone nor an email column (expected a header such as "
    "phone, mobile, portable, téléphone, email or courriel; columns found: %(raw_found)s)": (
        "%(raw_source)s n’a ni colonne de téléphone ni colonne d’e-mail (en-têtes attendus : "
        "phone, mobile, portable, téléphone, email ou courriel ; colonnes trouvées : "
        "%(raw_found)s)"
    ),
    '%(raw_source)s: columns "%(raw_first)s" and "%(raw_name)s" both give the %(field)s '
    "field; rename or remove one": (
        "%(raw_source)s : les colonnes « %(raw_first)s » et « %(raw_name)s » donnent toutes "
        "deux le champ %(field)s ; renommez ou supprimez l’une d’elles"
    ),
    "line %(n)s: not readable as CSV (%(error)s)": (
        "ligne %(n)s : illisible comme CSV (%(error)s)"
    ),
    # the csv module's words, inside the sentence above
    "unexpected end of data": "fin des données inattendue",
    "field larger than field limit (%(n)s)": (
        "champ plus grand que la limite de taille d’un champ (%(n)s)"
    ),
    "'%(raw_expected)s' expected after '%(raw_after)s'": (
        "« %(raw_expected)s » attendu après « %(raw_after)s »"
    ),
    "new-line character seen in unquoted field - do you need to open the file with "
    "newline=''?": "saut de ligne dans un champ sans guillemets",
    "line contains NUL": "la ligne contient un caractère NUL",
    "the file is larger than %(n)s MB": "le fichier dépasse %(n)s Mo",
    "reason.sunday": "dimanche : pas de marketing",
    # events (the contact page)
    "Events": "Événements",
    "Occurred": "Survenu le",
    "Type": "Type",
    "Properties": "Propriétés",
    "Recorded by": "Enregistré par",
    "No event recorded.": "Aucun événement enregistré.",
    "an order shipped in the last 7 days": "une commande expédiée ces 7 derniers jours",
    "The latest events are shown; textopt events list --contact shows them all.": (
        "Les derniers événements sont affichés ; textopt events list --contact les montre tous."
    ),
    "event_source.api": "API",
    "event_source.cli": "ligne de commande",
    "event_source.import": "import CSV",
    # the audience language's event terms, as patterns (web/error_sentences.py)
    '"%(raw_text)s" is not a period like 24h, 90d, 6w, 18m or 2y': (
        "« %(raw_text)s » n’est pas une durée comme 24h, 90d, 6w, 18m ou 2y"
    ),
    'expected a period after "within" (e.g. 7d or 24h) but found %(what)s': (
        "une durée était attendue après « within » (par ex. 7d ou 24h), mais voici %(what)s"
    ),
    '"%(raw_text)s" is not an event type: 1 to 64 letters, digits, "_", "." or "-", starting '
    "with a letter or digit": (
        "« %(raw_text)s » n’est pas un type d’événement : 1 à 64 lettres, chiffres, « _ », « . » "
        "ou « - », commençant par une lettre ou un chiffre"
    ),
    # days and months, for the day above each send-time chart (i18n.long_date)
    "%(weekday)s %(day)s %(month)s %(year)s": "%(weekday)s %(day)s %(month)s %(year)s",
    "Monday": "lundi",
    "Tuesday": "mardi",
    "Wednesday": "mercredi",
    "Thursday": "jeudi",
    "Friday": "vendredi",
    "Saturday": "samedi",
    "Sunday": "dimanche",
    "January": "janvier",
    "February": "février",
    "March": "mars",
    "April": "avril",
    "May": "mai",
    "June": "juin",
    "July": "juillet",
    "August": "août",
    "September": "septembre",
    "October": "octobre",
    "November": "novembre",
    "December": "décembre",
    "no contact with id %(id)s": "aucun contact n°%(id)s",
    "no campaign with id %(id)s": "aucune campagne n°%(id)s",
    "no message with id %(id)s": "aucun message n°%(id)s",
    "no signup list %(raw_slug)s": "aucune liste d’inscription %(raw_slug)s",
    "a signup list %(raw_slug)s exists already": (
        "une liste d’inscription %(raw_slug)s existe déjà"
    ),
    "consent text %(raw_version)s is missing": (
        "le texte de consentement %(raw_version)s n’existe pas"
    ),
    "campaign %(id)s is %(code_status)s: only a draft launches": (
        "la campagne n°%(id)s est %(code_status)s : seul un brouillon se lance"
    ),
    "a %(code_from)s campaign cannot become %(code_to)s": (
        "une campagne %(code_from)s ne peut pas devenir %(code_to)s"
    ),
    "list slug %(raw_slug)s: use 1-64 lower-case letters, digits and inner hyphens": (
        "adresse de liste %(raw_slug)s : 1 à 64 minuscules, chiffres et tirets intérieurs"
    ),
    "country %(raw_code)s is not an ISO 3166 code": (
        "le pays %(raw_code)s n’est pas un code ISO 3166"
    ),
    "a signup list needs a name of 1 to 200 characters": (
        "une liste d’inscription a un nom de 1 à 200 caractères"
    ),
    "a signup list names its brand (1 to 100 characters)": (
        "une liste d’inscription nomme sa marque (1 à 100 caractères)"
    ),
    "consent text version %(raw_version)s is not registered (add it with `textopt consent "
    "texts add`)": (
        "la version de texte de consentement %(raw_version)s n’est pas enregistrée "
        "(ajoutez-la avec `textopt consent texts add`)"
    ),
    '"%(raw_number)s" is not a valid number: %(why)s': (
        "« %(raw_number)s » n’est pas un numéro valide : %(why)s"
    ),
    "it contains letters or symbols": "il contient des lettres ou des symboles",
    "unknown country code": "indicatif de pays inconnu",
    "not a phone number": "ce n’est pas un numéro de téléphone",
    "too short": "trop court",
    "too long": "trop long",
    "wrong length": "longueur incorrecte",
    "no such number range": "cette tranche de numéros n’existe pas",
    "empty phone number": "numéro de téléphone vide",
    "numbers of %(raw_country)s cannot join this list (allowed: %(raw_allowed)s)": (
        "les numéros de %(raw_country)s ne peuvent pas s’inscrire à cette liste "
        "(permis : %(raw_allowed)s)"
    ),
    # domain errors a dashboard page can show, as patterns (web/error_sentences.py); a test
    # walks the raises on the dashboard's paths and fails on any sentence missing here
    "numbers of %(country)s cannot sign up here (allowed: %(value)s)": (
        "les numéros de %(country)s ne peuvent pas s’inscrire ici (autorisés : %(value)s)"
    ),
    "%(raw_e164)s is not a mobile number (%(number_type)s)": (
        "%(raw_e164)s n’est pas un numéro de mobile (%(number_type)s)"
    ),
    "the password must have at least %(n)s characters": (
        "le mot de passe doit compter au moins %(n)s caractères"
    ),
    "the password must have at most %(n)s characters": (
        "le mot de passe doit compter au plus %(n)s caractères"
    ),
    "a user needs an email address": "un utilisateur a besoin d’une adresse e-mail",
    "a user with email %(raw_address)s already exists": (
        "un utilisateur avec l’e-mail %(raw_address)s existe déjà"
    ),
    "no user %(raw_user)s": "aucun utilisateur %(raw_user)s",
    "give at least one scope": "donnez au moins une portée",
    "an API key needs a name of 1 to 100 characters": (
        "une clé d’API a besoin d’un nom de 1 à 100 caractères"
    ),
    "no API key %(raw_key)s": "aucune clé d’API %(raw_key)s",
    "unknown role %(raw_value)s (known: %(raw_known)s)": (
        "rôle inconnu %(raw_value)s (connus : %(raw_known)s)"
    ),
    "%(what)s (known scopes: %(raw_known)s)": "%(what)s (portées connues : %(raw_known)s)",
    "the filter is longer than %(n)s characters": "le filtre dépasse %(n)s caractères",
    "campaign %(id)s is %(code_status)s: only a draft can be %(code_verb)s (duplicate it to "
    "start a new draft)": (
        "la campagne %(id)s est %(code_status)s : seul un brouillon peut être %(code_verb)s "
        "(dupliquez-la pour partir d’un nouveau brouillon)"
    ),
    "edited": "modifié",
    "deleted": "supprimé",
    "a draft has no field %(raw_value)s": "un brouillon n’a pas de champ %(raw_value)s",
    "%(what)s (for %(raw_who)s)": "%(what)s (pour %(raw_who)s)",
    "%(raw_address)s is not an email address": "%(raw_address)s n’est pas une adresse e-mail",
    "nothing was planned: %(what)s": "rien n’a été planifié : %(what)s",
    'segment name "%(raw)s" must be 1 to %(n)s letters, digits, spaces, _ . or -, starting '
    "with a letter or digit": (
        "le nom de segment « %(raw)s » doit compter de 1 à %(n)s lettres, chiffres, espaces, "
        "_ . ou -, et commencer par une lettre ou un chiffre"
    ),
    'segment name "%(raw_name)s" cannot be only digits (it would read as an id)': (
        "le nom de segment « %(raw_name)s » ne peut pas être fait que de chiffres (il se lirait "
        "comme un numéro)"
    ),
    'no segment "%(raw_name)s"': "aucun segment « %(raw_name)s »",
    'a segment named "%(raw_name)s" already exists': "un segment « %(raw_name)s » existe déjà",
    "batch_size must be at least 1": "batch_size doit valoir au moins 1",
    "a campaign needs a name": "une campagne a besoin d’un nom",
    "give the audience as a saved segment or a filter (one of them)": (
        "donnez l’audience par un segment enregistré ou par un filtre (l’un des deux)"
    ),
    "a marketing campaign must name its brand": "une campagne marketing doit nommer sa marque",
    "the campaign expires before it starts": "la campagne expire avant de commencer",
    "validity must be at least one hour": "la validité doit être d’au moins une heure",
    "throughput must be positive": "le débit doit être positif",
    "a %(code_rule)s campaign needs an SMS text": (
        "une campagne « %(code_rule)s » a besoin d’un texte de SMS"
    ),
    "an SMS text was given but the channel rule is %(code_rule)s": (
        "un texte de SMS est donné mais la règle de canaux est « %(code_rule)s »"
    ),
    "an email was given but the channel rule is %(code_rule)s: use --channels": (
        "un e-mail est donné mais la règle de canaux est « %(code_rule)s » : choisissez les canaux"
    ),
    "unknown channel rule %(raw_value)s (one of %(raw_known)s)": (
        "règle de canaux inconnue %(raw_value)s (l’une de %(raw_known)s)"
    ),
    "%(code_field)s: %(what)s": "%(code_field)s : %(what)s",
    "an email needs a subject": "un e-mail a besoin d’un objet",
    "an email needs an HTML template": "un e-mail a besoin d’un modèle HTML",
    "the email subject renders empty": "l’objet de l’e-mail est vide une fois rendu",
    "the email subject is longer than %(n)s characters": (
        "l’objet de l’e-mail dépasse %(n)s caractères"
    ),
    "%(raw_value)s is not a date (expected a date or ISO 8601 text)": (
        "%(raw_value)s n’est pas une date (une date ou un texte ISO 8601 est attendu)"
    ),
    "%(raw_value)s is not a time (expected a time, datetime or ISO 8601 text)": (
        "%(raw_value)s n’est pas une heure (une heure, une date et heure ou un texte ISO 8601 "
        "est attendu)"
    ),
    "language %(raw_tag)s is not supported: use one of %(raw_value)s": (
        "la langue %(raw_tag)s n’est pas prise en charge : utilisez l’une de %(raw_value)s"
    ),
    "date style %(raw_style)s is not one of %(raw_value)s": (
        "le style de date %(raw_style)s n’est pas l’un de %(raw_value)s"
    ),
    "%(raw_value)s is not an amount": "%(raw_value)s n’est pas un montant",
    "%(raw_value)s is not a finite amount": "%(raw_value)s n’est pas un montant fini",
    "currency %(raw_currency)s is not an ISO 4217 code": (
        "la devise %(raw_currency)s n’est pas un code ISO 4217"
    ),
    "sender ID %(raw_sender)s is not one the workspace registered (sender_ids: %(raw_known)s)": (
        "l’expéditeur %(raw_sender)s n’est pas un de ceux de l’espace (sender_ids : %(raw_known)s)"
    ),
    "a marketing message must name the brand %(raw_brand)s": (
        "un message marketing doit nommer la marque %(raw_brand)s"
    ),
    "%(raw_name)s is a method, not a value: call it, as in %(raw_call)s()": (
        "%(raw_name)s est une méthode, pas une valeur : appelez-la, comme dans %(raw_call)s()"
    ),
    "the template prints a function, not a value": (
        "le modèle affiche une fonction, pas une valeur"
    ),
    "template syntax error on line %(n)s: %(raw_message)s": (
        "erreur de syntaxe du modèle à la ligne %(n)s : %(raw_message)s"
    ),
    "template stopped: %(raw_exc)s": "modèle arrêté : %(raw_exc)s",
    "template variable %(raw_name)s is missing": "la variable de modèle %(raw_name)s manque",
    "template failed: %(what)s": "échec du modèle : %(what)s",
    "a consent text needs a version name and a body": (
        "un texte de consentement a besoin d’un nom de version et d’un corps"
    ),
    "consent text version %(raw_version)s: use 1 to 64 letters, digits, '.', '-' or '_'": (
        "version de texte de consentement %(raw_version)s : utilisez de 1 à 64 lettres, "
        "chiffres, « . », « - » ou « _ »"
    ),
    "a consent text cannot hold control characters": (
        "un texte de consentement ne peut pas contenir de caractères de contrôle"
    ),
    "consent text %(raw_version)s exists already: texts are never changed, register a new "
    "version": (
        "le texte de consentement %(raw_version)s existe déjà : un texte ne change jamais, "
        "enregistrez une nouvelle version"
    ),
    "consent event for contact %(id)s: %(what)s": (
        "événement de consentement du contact %(id)s : %(what)s"
    ),
    "contact %(id)s is on the %(code_channel)s suppression list (%(what)s): marketing consent "
    "cannot be recorded": (
        "le contact %(id)s est sur la liste d’exclusion %(code_channel)s (%(what)s) : aucun "
        "consentement marketing ne peut être enregistré"
    ),
    "give either a phone number or an email address": (
        "donnez un numéro de téléphone ou une adresse e-mail"
    ),
    "this unsubscribe link is not valid": "ce lien de désinscription n’est pas valide",
    '"%(raw_pair)s" is not a mapping: write the column, "=" and the field, e.g. '
    '"Numéro client=phone"': (
        "« %(raw_pair)s » n’est pas une correspondance : écrivez la colonne, « = » et le champ, "
        "par ex. « Numéro client=phone »"
    ),
    '%(code_field)s "%(raw)s" is not a yes/no value': (
        "%(code_field)s « %(raw)s » n’est pas une valeur oui/non"
    ),
    'unknown time zone "%(raw_text)s" (expected e.g. Europe/Paris)': (
        "fuseau horaire inconnu « %(raw_text)s » (attendu par ex. Europe/Paris)"
    ),
    'region "%(raw_text)s" is longer than %(n)s characters': (
        "la région « %(raw_text)s » dépasse %(n)s caractères"
    ),
    'country "%(raw_text)s" is not a two-letter ISO code (e.g. FR, US)': (
        "le pays « %(raw_text)s » n’est pas un code ISO à deux lettres (par ex. FR, US)"
    ),
    'language "%(raw_text)s" is not a language code (e.g. fr, en, fr-ca)': (
        "la langue « %(raw_text)s » n’est pas un code de langue (par ex. fr, en, fr-ca)"
    ),
    '"%(raw_text)s" is not a valid email address: %(raw_exc)s': (
        "« %(raw_text)s » n’est pas une adresse e-mail valide : %(raw_exc)s"
    ),
    "%(code_field)s holds a NUL character": "%(code_field)s contient un caractère NUL",
    "%(code_field)s is %(raw_value)s: not a number JSON can carry": (
        "%(code_field)s vaut %(raw_value)s : un nombre que JSON ne peut pas porter"
    ),
    'tag "%(raw_text)s" is longer than %(n)s characters': (
        "l’étiquette « %(raw_text)s » dépasse %(n)s caractères"
    ),
    'tag "%(raw_text)s" contains a separator (, ; |)': (
        "l’étiquette « %(raw_text)s » contient un séparateur (, ; |)"
    ),
    "%(code_field)s holds a lone UTF-16 surrogate (not a character)": (
        "%(code_field)s contient un demi-caractère UTF-16 isolé (pas un caractère)"
    ),
    "an import job cannot end %(code_state)s": "une importation ne peut pas finir %(code_state)s",
    "no import job %(id)s": "aucune importation %(id)s",
    "%(code_field)s is longer than %(n)s characters": "%(code_field)s dépasse %(n)s caractères",
    "a contact needs a phone number or an email address (or both)": (
        "un contact a besoin d’un numéro de téléphone ou d’une adresse e-mail (ou des deux)"
    ),
    "no contact with number %(raw_e164)s": "aucun contact avec le numéro %(raw_e164)s",
    "no contact with email %(raw_value)s": "aucun contact avec l’e-mail %(raw_value)s",
    "name the contact by a phone number or by an email address (one of them)": (
        "désignez le contact par un numéro de téléphone ou par une adresse e-mail (l’un des deux)"
    ),
    "limit must be between 1 and %(n)s": "la limite doit être entre 1 et %(n)s",
    "contact %(id)s has consent history, which is append-only and cannot be deleted: use "
    "`textopt gdpr erase %(raw_id)s` to erase the person instead": (
        "le contact %(id)s a un historique de consentement, qui ne fait que s’allonger et ne "
        "peut pas être supprimé : utilisez `textopt gdpr erase %(raw_id)s` pour effacer la "
        "personne"
    ),
    "a contact with number %(raw_e164)s already exists (id %(id)s)": (
        "un contact avec le numéro %(raw_e164)s existe déjà (numéro %(id)s)"
    ),
    "contact %(id)s is referenced by other records (messages...): use `textopt gdpr erase "
    "%(raw_id)s` instead": (
        "le contact %(id)s est cité par d’autres données (messages…) : utilisez "
        "`textopt gdpr erase %(raw_id)s` à la place"
    ),
    "a contact with email %(raw_address)s already exists (id %(id)s)": (
        "un contact avec l’e-mail %(raw_address)s existe déjà (numéro %(id)s)"
    ),
    "number %(raw_e164)s already belongs to contact %(id)s": (
        "le numéro %(raw_e164)s appartient déjà au contact %(id)s"
    ),
    '%(code_field)s: "%(raw_value)s" is not a keyword: one word of 1 to %(n)s letters or '
    "digits (e.g. HORAIRES)": (
        "%(code_field)s : « %(raw_value)s » n’est pas un mot-clé : un mot de 1 à %(n)s lettres "
        "ou chiffres (par ex. HORAIRES)"
    ),
    "%(code_field)s: %(raw_label)s is not a keyword: a keyword has at least one letter": (
        "%(code_field)s : %(raw_label)s n’est pas un mot-clé : un mot-clé a au moins une lettre"
    ),
    "%(code_field)s: %(raw_label)s is reserved: the built-in keyword %(raw_name)s (STOP, START, "
    "HELP and opt-in confirmations cannot be redefined)": (
        "%(code_field)s : %(raw_label)s est réservé : c’est le mot-clé intégré %(raw_name)s "
        "(STOP, START, HELP et les confirmations d’inscription ne se redéfinissent pas)"
    ),
    "%(code_field)s: give the answer in at least one language (fr, en, es or de)": (
        "%(code_field)s : donnez la réponse dans au moins une langue (fr, en, es ou de)"
    ),
    "%(code_field)s: %(raw_value)s is not a language of answers (one of %(raw_known)s)": (
        "%(code_field)s : %(raw_value)s n’est pas une langue de réponse (l’une de %(raw_known)s)"
    ),
    "%(code_field)s.%(raw_lang)s: the answer is empty": (
        "%(code_field)s.%(raw_lang)s : la réponse est vide"
    ),
    "%(code_field)s.%(raw_lang)s: the answer has %(n)s characters; at most %(max)s": (
        "%(code_field)s.%(raw_lang)s : la réponse a %(n)s caractères ; %(max)s au plus"
    ),
    "%(code_field)s needs a time zone offset": "%(code_field)s a besoin d’un décalage horaire",
    "%(code_field)s: %(raw_value)s is in the future; a consent or an event is recorded when it "
    "has happened": (
        "%(code_field)s : %(raw_value)s est dans le futur ; un consentement ou un événement "
        "s’enregistre une fois arrivé"
    ),
    "%(code_field)s: %(raw_value)s is more than %(n)s days ahead": (
        "%(code_field)s : %(raw_value)s est à plus de %(n)s jours"
    ),
    "%(code_field)s: %(raw_value)s is outside the dates we can store": (
        "%(code_field)s : %(raw_value)s est hors des dates enregistrables"
    ),
    "campaign %(id)s is %(code_status)s: only a draft changes": (
        "la campagne %(id)s est %(code_status)s : seul un brouillon change"
    ),
    "cannot shorten %(raw_url)s: not an http(s) URL": (
        "impossible de raccourcir %(raw_url)s : ce n’est pas une adresse http(s)"
    ),
    "cannot shorten a URL of %(n)s characters (at most %(max)s)": (
        "impossible de raccourcir une adresse de %(n)s caractères (%(max)s au plus)"
    ),
    "could not allocate short codes for campaign %(id)s": (
        "impossible d’attribuer des codes courts à la campagne %(id)s"
    ),
    "no such link": "lien inconnu",
    "language %(raw_language)s: one of %(raw_value)s": (
        "langue %(raw_language)s : l’une de %(raw_value)s"
    ),
    "consent text %(raw_version)s is for %(code_channel)s %(code_purpose)s, not SMS marketing": (
        "le texte de consentement %(raw_version)s vaut pour %(code_channel)s %(code_purpose)s, "
        "pas pour le marketing par SMS"
    ),
    "unknown time zone %(raw_name)s": "fuseau horaire inconnu %(raw_name)s",
    "unknown campaign action %(raw_action)s": "action de campagne inconnue %(raw_action)s",
    "start %(raw_value)s is not a date and time": (
        "le début %(raw_value)s n’est pas une date et une heure"
    ),
    "the server is stopping: start the import again later": (
        "le serveur s’arrête : relancez l’importation plus tard"
    ),
}

# The import: columns mapped in the page, the background job and its progress.
EN.update(
    {
        "field.phone": "phone",
        "field.email": "email",
        "field.first_name": "first name",
        "field.last_name": "last name",
        "field.language": "language",
        "field.country": "country",
        "field.region": "region, state or department",
        "field.timezone": "time zone",
        "field.tags": "tags",
        "field.is_customer": "customer (yes / no)",
        "field.consent_sms_marketing": "SMS marketing consent",
        "field.consent_email_marketing": "email marketing consent",
        "field.consent_at": "consent date",
        "field.consent_source": "consent source",
        "field.consent_text_version": "consent text version",
        "field.consent_ip": "consent IP address",
        "field.attribute": "an attribute (named after the column)",
        "field.ignore": "ignored",
        "import_job.running": "Import under way",
        "import_job.finished": "Import finished",
        "import_job.failed": "Import failed",
        "import_job.interrupted": "Import interrupted",
    }
)
FR.update(
    {
        "field.phone": "téléphone",
        "field.email": "e-mail",
        "field.first_name": "prénom",
        "field.last_name": "nom",
        "field.language": "langue",
        "field.country": "pays",
        "field.region": "région, État ou département",
        "field.timezone": "fuseau horaire",
        "field.tags": "étiquettes",
        "field.is_customer": "client (oui / non)",
        "field.consent_sms_marketing": "consentement SMS marketing",
        "field.consent_email_marketing": "consentement e-mail marketing",
        "field.consent_at": "date du consentement",
        "field.consent_source": "source du consentement",
        "field.consent_text_version": "version du texte de consentement",
        "field.consent_ip": "adresse IP du consentement",
        "field.attribute": "un attribut (du nom de la colonne)",
        "field.ignore": "ignorée",
        "import_job.running": "Import en cours",
        "import_job.finished": "Import terminé",
        "import_job.failed": "Import en échec",
        "import_job.interrupted": "Import interrompu",
        "Latest imports": "Derniers imports",
        "File": "Fichier",
        "Started": "Commencé le",
        "State": "État",
        "tab": "tabulation",
        "Choose what each column holds. A column read as an attribute keeps its header as "
        "the attribute's name; an ignored column is not imported.": (
            "Choisissez ce que contient chaque colonne. Une colonne lue comme attribut garde "
            "son en-tête pour nom d’attribut ; une colonne ignorée n’est pas importée."
        ),
        "Read column as": "Lire la colonne comme",
        "First rows of the file": "Premières lignes du fichier",
        "No column is read as the phone or the email: choose which one holds them.": (
            "Aucune colonne n’est lue comme téléphone ou comme e-mail : choisissez celle qui "
            "les contient."
        ),
        'Columns "{first}" and "{second}" are both read as {field}: choose something else '
        "for one of them.": (
            "Les colonnes « {first} » et « {second} » sont toutes deux lues comme {field} : "
            "choisissez autre chose pour l’une d’elles."
        ),
        "Importing: you may leave this page, the import goes on.": (
            "Import en cours : vous pouvez quitter cette page, l’import continue."
        ),
        "{done} of {total} rows": "{done} lignes sur {total}",
        "Refresh": "Actualiser",
        "Every row counted below was kept. Upload the same file again to import the rest: "
        "rows already imported change nothing.": (
            "Chaque ligne comptée ci-dessous a été gardée. Envoyez à nouveau le même fichier "
            "pour importer le reste : les lignes déjà importées ne changent rien."
        ),
        "unchanged": "inchangés",
        "warnings": "avertissements",
        "Import another file": "Importer un autre fichier",
        "the process running the import stopped": "le processus qui importait s’est arrêté",
        "the server stopped during the import": "le serveur s’est arrêté pendant l’import",
        "the server is stopping: start the import again later": (
            "le serveur s’arrête : relancez l’import plus tard"
        ),
        '%(raw_source)s: the mapping names a column "%(raw_column)s" the file does not have '
        "(columns: %(raw_columns)s)": (
            "%(raw_source)s : la correspondance nomme une colonne « %(raw_column)s » absente "
            "du fichier (colonnes : %(raw_columns)s)"
        ),
        '%(raw_source)s: column "%(raw_column)s" cannot be read as "%(raw_target)s" '
        "(expected one of %(raw_targets)s)": (
            "%(raw_source)s : la colonne « %(raw_column)s » ne peut pas être lue comme "
            "« %(raw_target)s » (choix possibles : %(raw_targets)s)"
        ),
        '%(raw_source)s: columns "%(raw_first)s" and "%(raw_name)s" both give the %(field)s '
        "field; map one of them to another field": (
            "%(raw_source)s : les colonnes « %(raw_first)s » et « %(raw_name)s » donnent "
            "toutes deux le champ %(field)s ; lisez l’une d’elles autrement"
        ),
        '%(raw_source)s: %(n)s columns are named "%(raw_column)s": rename one to map it': (
            "%(raw_source)s : %(n)s colonnes s’appellent « %(raw_column)s » : renommez-en une "
            "pour la lire autrement"
        ),
        "%(raw_source)s is empty: it has no header line": (
            "%(raw_source)s est vide : il n’a pas de ligne d’en-tête"
        ),
        "%(raw_source)s has %(n)s columns; at most %(max)s are read": (
            "%(raw_source)s a %(n)s colonnes ; %(max)s au plus sont lues"
        ),
        "allowed: %(window)s": "permis : %(window)s",
        # form fields named by an error (web/__init__.py)
        "name": "nom",
        "brand": "marque",
        "filter": "filtre",
        "slug": "adresse",
        "countries": "pays",
        "goes out on %(when)s": "part le %(when)s",
    }
)

# Keywords the workspace answers (pages_keywords.py) and what they did to an inbound message.
EN.update(
    {
        "inbound.keyword_answered": "keyword answered",
        "inbound.keyword_rate_limited": (
            "keyword not answered: the same number got this answer less than 10 minutes ago"
        ),
        "inbound.keyword_off": "keyword switched off: kept for a person to read, not answered",
        "keywords.created": "Keyword added.",
        "keywords.changed": "Keyword saved.",
        "keywords.switched_on": "Keyword switched on: it is answered again.",
        "keywords.switched_off": "Keyword switched off: it is no longer answered.",
        "keywords.deleted": "Keyword deleted.",
    }
)
FR.update(
    {
        "inbound.keyword_answered": "mot-clé : réponse envoyée",
        "inbound.keyword_rate_limited": (
            "mot-clé sans réponse : ce numéro l’a reçue il y a moins de 10 minutes"
        ),
        "inbound.keyword_off": "mot-clé désactivé : conservé pour lecture, sans réponse",
        "keywords.created": "Mot-clé ajouté.",
        "keywords.changed": "Mot-clé enregistré.",
        "keywords.switched_on": "Mot-clé activé : il reçoit de nouveau une réponse.",
        "keywords.switched_off": "Mot-clé désactivé : il ne reçoit plus de réponse.",
        "keywords.deleted": "Mot-clé supprimé.",
        "Keywords": "Mots-clés",
        "A person who texts one of these words alone (any case, with or without accents) gets "
        "its answer at once, in their language: the contact's, else their number's country's, "
        "else the workspace's. The answer is a transactional message; the same number gets it "
        "at most once per keyword every %(n)s minutes.": (
            "Une personne qui envoie l’un de ces mots seul (en majuscules ou minuscules, avec "
            "ou sans accents) reçoit aussitôt sa réponse, dans sa langue : celle du contact, "
            "sinon celle du pays de son numéro, sinon celle de l’espace. La réponse est un "
            "message transactionnel ; un même numéro la reçoit au plus une fois par mot-clé "
            "toutes les %(n)s minutes."
        ),
        "Answered": "Réponse envoyée",
        "Answers": "Réponses",
        "Actions": "Actions",
        "no (switched off)": "non (désactivé)",
        "Edit": "Modifier",
        "Switch off": "Désactiver",
        "Switch on": "Activer",
        "Delete": "Supprimer",
        "No keyword yet.": "Aucun mot-clé pour l’instant.",
        "Edit the keyword %(word)s": "Modifier le mot-clé %(word)s",
        "New keyword": "Nouveau mot-clé",
        "Word": "Mot",
        "One word of letters or digits, e.g. HORAIRES. STOP, START, HELP, YES and their "
        "translations are reserved.": (
            "Un seul mot de lettres ou de chiffres, par exemple HORAIRES. STOP, START, AIDE, "
            "OUI et leurs traductions sont réservés."
        ),
        "Answer (%(language)s)": "Réponse (%(language)s)",
        "Give the answer in at least one language; an empty answer is not used.": (
            "Donnez la réponse dans au moins une langue ; une réponse vide n’est pas utilisée."
        ),
        "Save the keyword": "Enregistrer le mot-clé",
        "Add the keyword": "Ajouter le mot-clé",
        # the keyword commands' errors (inbound/workspace_keywords.py)
        'word: "%(raw_word)s" is not a keyword: one word of 1 to %(n)s letters or digits '
        "(e.g. HORAIRES)": (
            "mot : « %(raw_word)s » n’est pas un mot-clé : un seul mot de 1 à %(n)s lettres ou "
            "chiffres (par exemple HORAIRES)"
        ),
        "word: %(raw_word)s is reserved: the built-in keyword %(raw_kind)s (STOP, START, HELP "
        "and opt-in confirmations cannot be redefined)": (
            "mot : %(raw_word)s est réservé : c’est le mot-clé intégré %(raw_kind)s (STOP, "
            "START, AIDE et les confirmations d’inscription ne peuvent pas être redéfinis)"
        ),
        "word: %(raw_word)s is not a keyword: a keyword has at least one letter": (
            "mot : %(raw_word)s n’est pas un mot-clé : un mot-clé a au moins une lettre"
        ),
        "word: the keyword %(raw_word)s exists already": (
            "mot : le mot-clé %(raw_word)s existe déjà"
        ),
        "texts.%(raw_language)s: the answer has %(n)s characters; at most %(max)s": (
            "réponse (%(raw_language)s) : %(n)s caractères ; %(max)s au plus"
        ),
        "texts: give the answer in at least one language (fr, en, es or de)": (
            "réponses : donnez la réponse dans au moins une langue (français, anglais, espagnol "
            "ou allemand)"
        ),
        "no keyword %(raw_word)s": "aucun mot-clé %(raw_word)s",
    }
)

# The composer's email part (a multichannel draft).
FR.update(
    {
        "Channels": "Canaux",
        "SMS only": "SMS seul",
        "Email only": "e-mail seul",
        "SMS and email": "SMS et e-mail",
        "SMS, else email": "SMS, sinon e-mail",
        "Email, else SMS": "e-mail, sinon SMS",
        "both": "SMS et e-mail",
        "sms-else-email": "SMS, sinon e-mail",
        "email-else-sms": "e-mail, sinon SMS",
        "Subject": "Objet",
        "HTML body": "Corps HTML",
        "Text part (optional; else made from the HTML)": (
            "Partie texte (facultative ; sinon tirée du HTML)"
        ),
        "From address (optional; else the workspace's)": (
            "Adresse d’expédition (facultative ; sinon celle de l’espace)"
        ),
        "Sent when the channels include the email, with the same variables as the SMS. The "
        "HTML places the unsubscribe link with": (
            "Envoyé quand les canaux comprennent l’e-mail, avec les mêmes variables que le SMS. "
            "Le HTML place le lien de désinscription avec"
        ),
        "(else it is added at the end).": "(sinon il est ajouté à la fin).",
        "Email subject": "Objet de l’e-mail",
        "Email HTML": "HTML de l’e-mail",
        "Email text part": "Partie texte de l’e-mail",
    }
)
# the channel rules, as codes a page shows
EN.update(
    {
        "both": "SMS and email",
        "sms-else-email": "SMS, else email",
        "email-else-sms": "Email, else SMS",
    }
)

# The workspace without an email account, as the composer says it.
FR.update(
    {
        'no provider account sends email: add one with kind = "smtp" (or a sandbox with '
        'channel = "email")': (
            "aucun compte de fournisseur n’envoie d’e-mail : ajoutez-en un avec "
            'kind = "smtp" (ou un bac à sable avec channel = "email")'
        ),
        "provider account %(raw_name)s is not configured (known: %(raw_known)s)": (
            "le compte de fournisseur %(raw_name)s n’est pas configuré (connus : %(raw_known)s)"
        ),
    }
)

# The web server's own answers (an address or a method no page has).
FR.update(
    {
        "Not Found": "Cette page n’existe pas.",
        "Method Not Allowed": "Cette page ne reçoit pas ce genre de demande.",
    }
)

# The preference centre an unsubscribe link opens (pages_public.py), and the person's choices
# as the contact page and the ledger show them.
EN.update(
    {
        "limit-2-a-month": "own limit: at most 2 a month",
        "limit-1-a-week": "own limit: at most 1 a week",
        "limit-default": "own limit lifted",
        "frequency.2-a-month": "at most 2 a month",
        "frequency.1-a-week": "at most 1 a week",
        "frequency.default": "as the workspace allows",
        "promotions.subscribed": "received",
        "promotions.pending": "awaiting confirmation",
        "promotions.stopped": "stopped",
        "promotions.none": "no consent",
    }
)
FR.update(
    {
        "limit-2-a-month": "limite choisie : 2 par mois au plus",
        "limit-1-a-week": "limite choisie : 1 par semaine au plus",
        "limit-default": "limite choisie levée",
        "frequency.2-a-month": "2 par mois au plus",
        "frequency.1-a-week": "1 par semaine au plus",
        "frequency.default": "selon les règles de l’espace",
        "promotions.subscribed": "reçues",
        "promotions.pending": "en attente de confirmation",
        "promotions.stopped": "arrêtées",
        "promotions.none": "sans consentement",
        "Your message preferences": "Vos préférences de messages",
        "Your choices are saved.": "Vos choix sont enregistrés.",
        "Nothing changed: your choices were already these.": (
            "Rien n’a changé : c’étaient déjà vos choix."
        ),
        "Keep the messages you want, stop the others. Reminders and order updates are not "
        "promotions.": (
            "Gardez les messages que vous voulez, arrêtez les autres. Les rappels et le suivi "
            "de commande ne sont pas des promotions."
        ),
        "By SMS": "Par SMS",
        "By email": "Par e-mail",
        "Promotions and news": "Promotions et nouveautés",
        "How often": "À quelle fréquence",
        "As usual": "Comme d’habitude",
        "At most 2 a month": "2 par mois au plus",
        "At most 1 a week": "1 par semaine au plus",
        "Promotions and news: you do not receive them.": (
            "Promotions et nouveautés : vous ne les recevez pas."
        ),
        "Reminders and order updates": "Rappels et suivi de commande",
        "Save my choices": "Enregistrer mes choix",
        "Stop all promotions by SMS": "Arrêter toutes les promotions par SMS",
        "Stop all promotions by email": "Arrêter toutes les promotions par e-mail",
        "Preferences": "Préférences",
        "Channel": "Canal",
        "no address": "aucune adresse",
        "kept": "gardés",
        "stopped": "arrêtés",
        "The person chooses these on the page their unsubscribe link opens; each choice is in "
        "the ledger below.": (
            "La personne les choisit sur la page qu’ouvre son lien de désinscription ; chaque "
            "choix figure dans le registre ci-dessous."
        ),
        "Choose how often from the list (%(field)s).": (
            "Choisissez la fréquence dans la liste (%(field)s)."
        ),
    }
)

# The contact page's preferences form (pages_contacts.py, web/preference_form.py): what the
# team records when the person asks, and the notice that says what changed.
EN.update(
    {
        "preference_change.promotions.stopped": "promotions and news stopped",
        "preference_change.reminders.kept": "reminders and order updates kept",
        "preference_change.reminders.stopped": "reminders and order updates stopped",
        "preference_change.frequency.default": "promotions as often as the workspace allows",
        "preference_change.frequency.2-a-month": "promotions limited to 2 a month",
        "preference_change.frequency.1-a-week": "promotions limited to 1 a week",
    }
)
FR.update(
    {
        "preference_change.promotions.stopped": "promotions et nouveautés arrêtées",
        "preference_change.reminders.kept": "rappels et suivi de commande gardés",
        "preference_change.reminders.stopped": "rappels et suivi de commande arrêtés",
        "preference_change.frequency.default": "promotions selon les règles de l’espace",
        "preference_change.frequency.2-a-month": "promotions limitées à 2 par mois",
        "preference_change.frequency.1-a-week": "promotions limitées à 1 par semaine",
        "Record what the person asks for": "Enregistrer ce que la personne demande",
        "By phone, at the counter or by email: only what changes goes into the consent "
        "history, in your name.": (
            "Par téléphone, au comptoir ou par e-mail : seul ce qui change entre dans "
            "l’historique du consentement, à votre nom."
        ),
        "receive them again (not available here)": "les recevoir à nouveau (impossible ici)",
        "Promotions start again only with the person's consent and its proof (signup form, "
        "START reply, consent recorded with its proof), never from this form.": (
            "Les promotions ne reprennent qu’avec le consentement de la personne et sa preuve "
            "(formulaire d’inscription, réponse START, consentement enregistré avec sa "
            "preuve), jamais depuis ce formulaire."
        ),
        "Save the preferences": "Enregistrer les préférences",
        "Preferences saved.": "Préférences enregistrées.",
        "%(channel)s: %(changes)s.": "%(channel)s : %(changes)s.",
        "Nothing changed: the preferences were already these.": (
            "Rien n’a changé : les préférences étaient déjà celles-ci."
        ),
        "Refused: promotions are not resumed from this form. They start again only with the "
        "person's consent and its proof.": (
            "Refusé : les promotions ne reprennent pas depuis ce formulaire, seulement avec le "
            "consentement de la personne et sa preuve."
        ),
        "promotions by %(code_channel)s are stopped: they start again only with the person's "
        "consent and its proof (record a consent grant), never from preferences": (
            "les promotions par %(code_channel)s sont arrêtées : elles ne reprennent qu’avec le "
            "consentement de la personne et sa preuve (enregistrez un consentement), jamais "
            "depuis les préférences"
        ),
        "promotions by %(code_channel)s were never given: they start again only with the "
        "person's consent and its proof (record a consent grant), never from preferences": (
            "les promotions par %(code_channel)s n’ont jamais été accordées : elles ne "
            "commencent qu’avec le consentement de la personne et sa preuve (enregistrez un "
            "consentement), jamais depuis les préférences"
        ),
        "Choose one of the values of the list.": "Choisissez l’une des valeurs de la liste.",
    }
)

# The preference centre's refusals, as patterns (web/error_sentences.py).
FR.update(
    {
        "unknown frequency %(raw_value)s: choose default, 2-a-month or 1-a-week": (
            "fréquence inconnue %(raw_value)s : choisissez default, 2-a-month ou 1-a-week"
        ),
    }
)

# Questions a message asks and their answers (replies that act), as patterns
# (web/error_sentences.py) and the dashboard's words.
FR.update(
    {
        "%(raw_field)s: %(raw_kind)s is not a kind of question (one of %(raw_kinds)s)": (
            "%(raw_field)s : %(raw_kind)s n’est pas un type de question (parmi %(raw_kinds)s)"
        ),
        "asks: the recipient is no contact: only a contact's answer can be recorded "
        "(add the contact first)": (
            "asks : le destinataire n’est pas un contact : seule la réponse d’un contact peut "
            "être enregistrée (ajoutez d’abord le contact)"
        ),
        "asks: %(raw_number)s is no contact's number: only a contact's answer can be "
        "recorded (add the contact first)": (
            "asks : %(raw_number)s n’est le numéro d’aucun contact : seule la réponse d’un "
            "contact peut être enregistrée (ajoutez d’abord le contact)"
        ),
        "asks_reference: %(raw_count)s characters; at most %(raw_max)s": (
            "asks_reference : %(raw_count)s caractères ; %(raw_max)s au plus"
        ),
        "answer_by: %(raw_when)s has passed: a question needs time to be answered": (
            "answer_by : %(raw_when)s est passé : une question a besoin de temps pour recevoir "
            "sa réponse"
        ),
        "answer_by: %(raw_when)s is more than %(raw_days)s days away": (
            "answer_by : %(raw_when)s est à plus de %(raw_days)s jours"
        ),
    }
)
EN.update(
    {
        "inbound.question_confirmed": "answer: confirmed the latest question (event recorded)",
        "inbound.question_cancelled": "answer: cancelled the latest question (event recorded)",
    }
)
FR.update(
    {
        "inbound.question_confirmed": "réponse : dernière question confirmée (événement "
        "enregistré)",
        "inbound.question_cancelled": "réponse : dernière question annulée (événement enregistré)",
    }
)

# The contact page's questions and the events import page.
EN.update(
    {
        "question_kind.appointment": "Appointment",
        "question_state.waiting": "not sent yet",
        "question_state.open": "awaiting an answer",
        "question_state.answered": "answered",
        "question_state.expired": "no answer in time",
        "question_state.undelivered": "message not delivered",
        "answer.confirmed": "confirmed",
        "answer.cancelled": "cancelled",
    }
)
FR.update(
    {
        "question_kind.appointment": "Rendez-vous",
        "question_state.waiting": "pas encore envoyée",
        "question_state.open": "en attente de réponse",
        "question_state.answered": "répondue",
        "question_state.expired": "sans réponse à temps",
        "question_state.undelivered": "message non remis",
        "answer.confirmed": "confirmé",
        "answer.cancelled": "annulé",
        "Questions asked": "Questions posées",
        "Asked": "Posée le",
        "About": "Objet",
        "Answer": "Réponse",
        "No question asked.": "Aucune question posée.",
        "answers count until %(when)s": "réponses prises en compte jusqu’au %(when)s",
        "Import events": "Importer des événements",
        "Import events (orders, appointments…) from a CSV": (
            "Importer des événements (commandes, rendez-vous…) depuis un CSV"
        ),
        "Check and record the events": "Vérifier et enregistrer les événements",
        "Columns: the contact (contact_id, phone or email), type (order_shipped…), occurred_at "
        "(2026-11-25T09:30:00+01:00), an optional key; any other column is a property. Each row "
        "is checked first: one refused row and nothing is recorded. A file sent again records "
        "nothing twice.": (
            "Colonnes : le contact (contact_id, phone ou email), type (order_shipped…), "
            "occurred_at (2026-11-25T09:30:00+01:00), une clé facultative (key) ; toute autre "
            "colonne est une propriété. Chaque ligne est vérifiée d’abord : une seule ligne "
            "refusée et rien n’est enregistré. Un fichier envoyé deux fois n’enregistre rien "
            "deux fois."
        ),
        "%(file)s: %(recorded)s events recorded, %(already)s already recorded (%(rows)s rows).": (
            "%(file)s : %(recorded)s événements enregistrés, %(already)s déjà enregistrés "
            "(%(rows)s lignes)."
        ),
        "Nothing recorded": "Rien n’a été enregistré",
        "%(file)s: %(refused)s of %(rows)s rows refused. Correct them and send the file again: "
        "every row is recorded, or none.": (
            "%(file)s : %(refused)s lignes refusées sur %(rows)s. Corrigez-les et envoyez le "
            "fichier à nouveau : toutes les lignes sont enregistrées, ou aucune."
        ),
        "Line": "Ligne",
        "Column": "Colonne",
        "Problem": "Problème",
        "and %(count)s more problems": "et %(count)s autres problèmes",
    }
)

# The events import's refusals, as patterns (web/error_sentences.py).
FR.update(
    {
        "the file lacks the columns %(raw_columns)s (columns: contact_id or phone or email, "
        "type, occurred_at, then properties)": (
            "il manque au fichier les colonnes %(raw_columns)s (colonnes : contact_id ou phone "
            "ou email, type, occurred_at, puis les propriétés)"
        ),
        "no contact_id, phone or email in this row": (
            "ni contact_id, ni phone, ni email dans cette ligne"
        ),
        "occurred_at is empty": "occurred_at est vide",
        '"%(raw_text)s" is not an ISO 8601 date-time such as 2026-11-25T09:30:00+01:00': (
            "« %(raw_text)s » n’est pas une date-heure ISO 8601 telle que 2026-11-25T09:30:00+01:00"
        ),
        '"%(raw_text)s" is not a contact id': (
            "« %(raw_text)s » n’est pas un identifiant de contact"
        ),
        "no contact with %(raw_column)s %(raw_value)s: events are recorded for existing "
        "contacts only": (
            "aucun contact avec %(raw_column)s %(raw_value)s : les événements ne sont "
            "enregistrés que pour des contacts existants"
        ),
        "key %(raw_key)s was used for another event (line %(raw_line)s)": (
            "la clé %(raw_key)s a servi pour un autre événement (ligne %(raw_line)s)"
        ),
        "key %(raw_key)s was used for another event (an earlier event)": (
            "la clé %(raw_key)s a servi pour un autre événement (un événement antérieur)"
        ),
    }
)

# The inbox: conversations, replies and the 24-hour conversational window.
EN.update(
    {
        "inbox.filter.open": "Open",
        "inbox.filter.closed": "Closed",
        "inbox.filter.mine": "Mine",
        "inbox.filter.all": "All",
        "conversation.open": "open",
        "conversation.closed": "closed",
        "reply.conversational": "conversational reply",
        "reply.transactional": "transactional",
        "reply.marketing": "marketing",
        "window.expired": "The person's last message is 24 hours old or more: a reply now is "
        "not conversational.",
        "window.stopped": "The person's last message is a STOP: a reply now is not conversational.",
        "window.none": "The person has not written: a reply now is not conversational.",
        "window.open": "A reply now is conversational.",
        "inbox.replied": "Reply on its way.",
        "inbox.held": "Reply written, held by the sending rules: the reason is under it.",
        "inbox.blocked": "Reply not sent: the reason is under it.",
        "inbox.assigned": "Conversation assigned.",
        "inbox.unassigned": "Conversation unassigned.",
        "inbox.closed": "Conversation closed.",
        "inbox.reopened": "Conversation reopened.",
    }
)
FR.update(
    {
        "Inbox": "Messagerie",
        "Conversations": "Conversations",
        "inbox.filter.open": "Ouvertes",
        "inbox.filter.closed": "Fermées",
        "inbox.filter.mine": "Les miennes",
        "inbox.filter.all": "Toutes",
        "conversation.open": "ouverte",
        "conversation.closed": "fermée",
        "reply.conversational": "réponse conversationnelle",
        "reply.transactional": "transactionnel",
        "reply.marketing": "marketing",
        "window.expired": "Le dernier message de la personne date de 24 heures ou plus : une "
        "réponse maintenant n’est pas conversationnelle.",
        "window.stopped": "Le dernier message de la personne est un STOP : une réponse "
        "maintenant n’est pas conversationnelle.",
        "window.none": "La personne n’a pas écrit : une réponse maintenant n’est pas "
        "conversationnelle.",
        "window.open": "Une réponse maintenant est conversationnelle.",
        "inbox.replied": "Réponse en route.",
        "inbox.held": "Réponse écrite, retenue par les règles d’envoi : la raison est dessous.",
        "inbox.blocked": "Réponse non envoyée : la raison est dessous.",
        "inbox.assigned": "Conversation attribuée.",
        "inbox.unassigned": "Conversation désattribuée.",
        "inbox.closed": "Conversation fermée.",
        "inbox.reopened": "Conversation rouverte.",
        "The messages people send to your numbers, one conversation per person. A reply within "
        "24 hours of their last message is conversational: no brand or STOP footer, not counted "
        "in marketing caps, sent at any hour.": (
            "Les messages que l’on envoie à vos numéros, une conversation par personne. Une "
            "réponse dans les 24 heures qui suivent son dernier message est conversationnelle : "
            "ni marque ni mention STOP, hors plafonds marketing, envoyée à toute heure."
        ),
        "Last message": "Dernier message",
        "Unread": "Non lus",
        "Assigned to": "Attribuée à",
        "State": "État",
        "Last activity": "Dernière activité",
        "No conversation here.": "Aucune conversation ici.",
        "Back to the inbox": "Retour à la messagerie",
        "Not assigned": "Non attribuée",
        "Contact": "Contact",
        "Assign to": "Attribuer à",
        "Nobody": "Personne",
        "Assign": "Attribuer",
        "Close the conversation": "Fermer la conversation",
        "Reopen the conversation": "Rouvrir la conversation",
        "(erased)": "(effacé)",
        "Campaign": "Campagne",
        "goes at": "part le",
        "No message yet.": "Aucun message pour l’instant.",
        "Reply": "Répondre",
        "A reply now is conversational until %(time)s: no brand or STOP footer, sent at any "
        "hour, not counted in marketing caps.": (
            "Une réponse maintenant est conversationnelle jusqu’au %(time)s : ni marque ni "
            "mention STOP, envoyée à toute heure, hors plafonds marketing."
        ),
        "Say whether the reply is transactional or marketing: the sending rules apply as to any "
        "message (marketing needs consent and gets the brand, the STOP footer, the hours and "
        "the caps).": (
            "Dites si la réponse est transactionnelle ou marketing : les règles d’envoi "
            "s’appliquent comme à tout message (le marketing demande le consentement et reçoit "
            "la marque, la mention STOP, les horaires et les plafonds)."
        ),
        "Your reply": "Votre réponse",
        "Send as": "Envoyer comme",
        "Choose…": "Choisissez…",
        "Send the reply": "Envoyer la réponse",
        "There is no number to reply to (erased, or the contact has none).": (
            "Il n’y a aucun numéro à qui répondre (effacé, ou le contact n’en a pas)."
        ),
        "SMS part": "partie SMS",
        "SMS parts": "parties SMS",
        "unread message": "message non lu",
        "unread messages": "messages non lus",
        "Open the conversation to answer": "Ouvrir la conversation pour répondre",
        "user %(raw_email)s cannot open the inbox (role %(code_role)s): assign the conversation "
        "to a marketer or an admin": (
            "l’utilisateur %(raw_email)s ne peut pas ouvrir la messagerie (rôle %(code_role)s) : "
            "attribuez la conversation à un marketeur ou à un administrateur"
        ),
        # the inbox's refusals, as patterns (web/error_sentences.py)
        "no conversation with id %(raw_id)s": "aucune conversation avec l’identifiant %(raw_id)s",
        "show: %(raw_value)s is not a list of the inbox (one of %(raw_list)s)": (
            "show : %(raw_value)s n’est pas une liste de la messagerie (parmi %(raw_list)s)"
        ),
        "user %(raw_email)s is disabled: assign the conversation to someone else": (
            "l’utilisateur %(raw_email)s est désactivé : attribuez la conversation à quelqu’un "
            "d’autre"
        ),
        "kind: %(reason)s: choose whether the reply is transactional or marketing": (
            "type : %(reason)s : choisissez si la réponse est transactionnelle ou marketing"
        ),
        "kind: %(reason)s": "type : %(reason)s",
        "the person's last message is a STOP, so a reply is not conversational": (
            "le dernier message de la personne est un STOP, une réponse n’est donc pas "
            "conversationnelle"
        ),
        "the person has not written, so a reply is not conversational": (
            "la personne n’a pas écrit, une réponse n’est donc pas conversationnelle"
        ),
        "the person's last message is 24 hours old or more, so a reply is not conversational": (
            "le dernier message de la personne date de 24 heures ou plus, une réponse n’est "
            "donc pas conversationnelle"
        ),
        "kind: %(raw_value)s is not a kind of reply (conversational, transactional or marketing)": (
            "type : %(raw_value)s n’est pas un type de réponse (conversational, transactional "
            "ou marketing)"
        ),
        "text: the reply is empty": "texte : la réponse est vide",
        "text: the reply has %(count)s characters; at most %(limit)s": (
            "texte : la réponse a %(count)s caractères ; %(limit)s au plus"
        ),
        "the person has no number to reply to (erased, or the contact has none)": (
            "la personne n’a aucun numéro à qui répondre (effacé, ou le contact n’en a pas)"
        ),
        "contact %(raw_id)s is erased: it receives nothing, for good": (
            "le contact %(raw_id)s est effacé : il ne reçoit plus rien, pour toujours"
        ),
    }
)

# Flows: the list, one flow's page, the step list editor and its preview.
EN.update(
    {
        "flow_state.draft": "draft",
        "flow_state.active": "active",
        "flow_state.paused": "paused",
        "flow_state.archived": "archived",
        "flow_step.trigger": "trigger",
        "flow_step.wait": "wait",
        "flow_step.condition": "condition",
        "flow_step.send": "message",
        "flow_step.end": "end",
        "trigger.event": "an event",
        "trigger.date_attribute": "a date of the contact",
        "trigger.optin_confirmed": "a confirmed opt-in",
        "trigger.segment_entered": "entering a segment",
        "flow_outcome.entered": "reached",
        "flow_outcome.waiting": "waits until then",
        "flow_outcome.sent": "written to the outbox",
        "flow_outcome.skipped": "not sent",
        "flow_outcome.exited": "leaves the flow",
        "flow_outcome.completed": "done",
        "flow_run.active": "in progress",
        "flow_run.completed": "completed",
        "flow_run.exited": "left the flow",
        "flow_exit.exit_event": "an exit event came (e.g. the appointment was cancelled)",
        "flow_exit.consent_revoked": "consent withdrawn or STOP before a marketing message",
        "flow_exit.suppressed": "on the suppression list before a marketing message",
        "flow_exit.condition_false": "not in the condition's segment",
        "flow_exit.flow_archived": "the flow was archived",
        "flow_exit.contact_erased": "the contact was erased",
        "flow_exit.no_date": "no date to wait for",
        "flow_exit.date_passed": "the date had passed",
        "flow_exit.date_changed": "the date was moved or removed",
        "flow_exit.invalid_number": "no valid mobile number",
        "flow_exit.invalid_email": "no valid email address",
        "flow_exit.template_error": "the message's template could not be rendered",
        "flow_exit.invalid": "the step could not be run with this contact's data",
        "flow_exit.config_error": "no account sends this channel",
        "flow_exit.exited": "left the flow",
        "flows.created": "Flow saved as a draft. Activate it when it is ready.",
        "flows.versioned": (
            "New version saved: occurrences already started keep theirs, new ones take it."
        ),
        "flows.unchanged": "Nothing changed: the flow is as it was.",
        "flows.active": "The flow is active: its trigger starts occurrences from now on.",
        "flows.paused": "The flow is paused.",
        "flows.archived": "The flow is archived: its occurrences in progress ended.",
        "asks.appointment": "confirm or cancel an appointment (OUI / ANNULER)",
    }
)
FR.update(
    {
        "flow_state.draft": "brouillon",
        "flow_state.active": "actif",
        "flow_state.paused": "en pause",
        "flow_state.archived": "archivé",
        "flow_step.trigger": "déclencheur",
        "flow_step.wait": "attente",
        "flow_step.condition": "condition",
        "flow_step.send": "message",
        "flow_step.end": "fin",
        "trigger.event": "un événement",
        "trigger.date_attribute": "une date du contact",
        "trigger.optin_confirmed": "un consentement confirmé",
        "trigger.segment_entered": "l’entrée dans un segment",
        "flow_outcome.entered": "atteinte",
        "flow_outcome.waiting": "attend jusque-là",
        "flow_outcome.sent": "écrit dans la file d’envoi",
        "flow_outcome.skipped": "non envoyé",
        "flow_outcome.exited": "quitte le parcours",
        "flow_outcome.completed": "terminé",
        "flow_run.active": "en cours",
        "flow_run.completed": "terminé",
        "flow_run.exited": "sorti du parcours",
        "flow_exit.exit_event": "un événement de sortie est arrivé (p. ex. rendez-vous annulé)",
        "flow_exit.consent_revoked": "consentement retiré ou STOP avant un message marketing",
        "flow_exit.suppressed": "sur la liste d’opposition avant un message marketing",
        "flow_exit.condition_false": "hors du segment de la condition",
        "flow_exit.flow_archived": "le parcours a été archivé",
        "flow_exit.contact_erased": "le contact a été effacé",
        "flow_exit.no_date": "aucune date à attendre",
        "flow_exit.date_passed": "la date était passée",
        "flow_exit.date_changed": "la date a été déplacée ou retirée",
        "flow_exit.invalid_number": "aucun numéro mobile valide",
        "flow_exit.invalid_email": "aucune adresse e-mail valide",
        "flow_exit.template_error": "le modèle du message n’a pas pu être rendu",
        "flow_exit.invalid": "l’étape n’a pas pu s’exécuter avec les données de ce contact",
        "flow_exit.config_error": "aucun compte n’envoie sur ce canal",
        "flow_exit.exited": "sorti du parcours",
        "flows.created": "Parcours enregistré en brouillon. Activez-le quand il est prêt.",
        "flows.versioned": (
            "Nouvelle version enregistrée : les occurrences déjà commencées gardent la leur, "
            "les nouvelles prennent celle-ci."
        ),
        "flows.unchanged": "Rien n’a changé : le parcours est tel qu’il était.",
        "flows.active": (
            "Le parcours est actif : son déclencheur lance des occurrences à partir de maintenant."
        ),
        "flows.paused": "Le parcours est en pause.",
        "flows.archived": "Le parcours est archivé : ses occurrences en cours sont terminées.",
        "asks.appointment": "confirmer ou annuler un rendez-vous (OUI / ANNULER)",
        "Flows": "Parcours",
        "New flow": "Nouveau parcours",
        "No flow yet.": "Aucun parcours pour l’instant.",
        "A flow sends its messages around what happens to each person: a reminder before an "
        "appointment, a welcome after the opt-in, a birthday offer. Every message goes through "
        "the same consent, hours, caps and expiry as a campaign.": (
            "Un parcours envoie ses messages autour de ce qui arrive à chaque personne : un "
            "rappel avant un rendez-vous, une bienvenue après l’inscription, une offre "
            "d’anniversaire. Chaque message passe par les mêmes consentements, horaires, "
            "plafonds et expirations qu’une campagne."
        ),
        "Version": "Version",
        "Version %(n)s": "Version %(n)s",
        "Occurrences": "Occurrences",
        "occurrence": "occurrence",
        "occurrences": "occurrences",
        "Occurrence": "Occurrence",
        "In progress": "En cours",
        "in progress": "en cours",
        "Messages written": "Messages écrits",
        "Active since": "Actif depuis",
        "Edit the flow": "Modifier le parcours",
        "Edit the flow %(name)s": "Modifier le parcours %(name)s",
        "Activate": "Activer",
        "Archive": "Archiver",
        "Archive this flow for good? Its occurrences in progress end.": (
            "Archiver ce parcours pour de bon ? Ses occurrences en cours s’arrêtent."
        ),
        "The flow is active: editing it saves a new version. Occurrences already started keep "
        "their version; new ones take the new one.": (
            "Le parcours est actif : le modifier enregistre une nouvelle version. Les "
            "occurrences déjà commencées gardent leur version ; les nouvelles prennent la "
            "nouvelle."
        ),
        "A draft triggers nothing. Activate it to start: what happened before is not replayed.": (
            "Un brouillon ne déclenche rien. Activez-le pour commencer : ce qui s’est passé "
            "avant n’est pas rejoué."
        ),
        "Paused: nothing starts and nothing moves; occurrences wait until the flow is "
        "activated again.": (
            "En pause : rien ne commence et rien n’avance ; les occurrences attendent que le "
            "parcours soit réactivé."
        ),
        "Trigger and steps": "Déclencheur et étapes",
        "Starts on": "Démarre sur",
        "every year at %(at)s": "chaque année à %(at)s",
        "one occurrence per": "une occurrence par",
        "at %(at)s local time": "à %(at)s heure locale",
        "valid %(d)s": "valable %(d)s",
        "asks OUI / ANNULER": "demande OUI / ANNULER",
        "Ends early on": "S’arrête avant la fin sur",
        "Stats per step": "Statistiques par étape",
        "Step": "Étape",
        "Entered": "Entrées",
        "Waiting": "En attente",
        "Sent": "Envoyés",
        "Not sent, by reason": "Non envoyés, par raison",
        "Exited, by reason": "Sorties, par raison",
        "Completed": "Terminées",
        "Latest occurrences": "Dernières occurrences",
        "Contact": "Contact",
        "Next step": "Étape suivante",
        "step %(n)s on %(when)s": "étape %(n)s le %(when)s",
        "No occurrence yet.": "Aucune occurrence pour l’instant.",
        "This flow has been active: saving makes version %(n)s. Occurrences already started "
        "keep version %(current)s; new ones take the new version.": (
            "Ce parcours a déjà été actif : enregistrer crée la version %(n)s. Les occurrences "
            "déjà commencées gardent la version %(current)s ; les nouvelles prennent la "
            "nouvelle version."
        ),
        "Save the flow": "Enregistrer le parcours",
        "Save a new version": "Enregistrer une nouvelle version",
        "Description (optional)": "Description (facultative)",
        "Trigger: what starts an occurrence": "Déclencheur : ce qui lance une occurrence",
        "Only the fields of the chosen trigger are used.": (
            "Seuls les champs du déclencheur choisi sont utilisés."
        ),
        "Event type (an event trigger)": "Type d’événement (déclencheur événement)",
        "e.g. appointment_booked, order_shipped, keyword.horaires": (
            "p. ex. appointment_booked, order_shipped, keyword.horaires"
        ),
        "Occurrence key (an event property, optional)": (
            "Clé d’occurrence (une propriété de l’événement, facultative)"
        ),
        "One occurrence per value, e.g. appointment_id: a moved appointment is the same "
        "occurrence.": (
            "Une occurrence par valeur, p. ex. appointment_id : un rendez-vous déplacé reste "
            "la même occurrence."
        ),
        "Date attribute (a date trigger)": "Attribut date (déclencheur date)",
        "A contact attribute holding a date, e.g. appointment_at or birthday.": (
            "Un attribut du contact qui contient une date, p. ex. appointment_at ou birthday."
        ),
        "Every year on its anniversary": "Chaque année à la date anniversaire",
        "Local hour of a yearly date": "Heure locale d’une date annuelle",
        "e.g. 10:00, in each person's time zone.": (
            "p. ex. 10:00, dans le fuseau horaire de chaque personne."
        ),
        "Channel consented to (an opt-in trigger)": (
            "Canal du consentement (déclencheur inscription)"
        ),
        "Segment expression (a segment trigger)": "Expression de segment (déclencheur segment)",
        "e.g. tag:vip and not event:order_paid within 90d": (
            "p. ex. tag:vip and not event:order_paid within 90d"
        ),
        "Steps": "Étapes",
        "Step %(n)s: %(kind)s": "Étape %(n)s : %(kind)s",
        "Wait for": "Attendre",
        "A duration: 30m, 2h, 3d, 1w.": "Une durée : 30m, 2h, 3d, 1w.",
        "Or wait until": "Ou attendre jusqu’à",
        "A date less or more a duration: appointment_at - 24h, event.delivery_at + 2h.": (
            "Une date moins ou plus une durée : appointment_at - 24h, event.delivery_at + 2h."
        ),
        "At this local hour (optional)": "À cette heure locale (facultatif)",
        "Moves the end of the wait to this hour of its day, in the person's time zone.": (
            "Place la fin de l’attente à cette heure de son jour, dans le fuseau de la personne."
        ),
        "Go on only for contacts in": "Continuer seulement pour les contacts de",
        "A segment expression; the others leave the flow here.": (
            "Une expression de segment ; les autres quittent le parcours ici."
        ),
        "Variables: {{ first_name }}, {{ event.<property> }}, {{ when | time }} (the date the "
        "flow waits for, in the person's zone).": (
            "Variables : {{ first_name }}, {{ event.<propriété> }}, {{ when | time }} (la date "
            "qu’attend le parcours, dans le fuseau de la personne)."
        ),
        "Email text part (optional)": "Partie texte de l’e-mail (facultative)",
        "Sender (optional)": "Expéditeur (facultatif)",
        "An SMS sender ID, or the email's From address.": (
            "L’identifiant d’expéditeur SMS, ou l’adresse From de l’e-mail."
        ),
        "Valid for": "Valable",
        "After that it is not sent late but expired (24h when empty).": (
            "Passé ce délai, il n’est pas envoyé en retard mais expire (24h si vide)."
        ),
        "Asks for an answer": "Demande une réponse",
        "no question": "aucune question",
        "Move up": "Monter",
        "Move down": "Descendre",
        "Remove the step": "Retirer l’étape",
        "Add a wait": "Ajouter une attente",
        "Add a condition": "Ajouter une condition",
        "Add a message": "Ajouter un message",
        "Ends early on these events (optional)": (
            "S’arrête avant la fin sur ces événements (facultatif)"
        ),
        "Event types, separated by commas, e.g. appointment_cancelled. A STOP always ends a "
        "flow's marketing.": (
            "Types d’événements, séparés par des virgules, p. ex. appointment_cancelled. Un "
            "STOP arrête toujours le marketing d’un parcours."
        ),
        "Preview for a contact": "Aperçu pour un contact",
        "Contact (number, email or #id)": "Contact (numéro, e-mail ou n°)",
        "Nothing is sent or written: times in the contact's zone, texts as rendered, and the "
        "policy's decision.": (
            "Rien n’est envoyé ni écrit : les heures dans le fuseau du contact, les textes "
            "rendus et la décision de la politique d’envoi."
        ),
        "Preview": "Aperçu",
        "For %(who)s": "Pour %(who)s",
        "When (contact's time)": "Quand (heure du contact)",
        "Flow": "Parcours",
        "In no flow yet.": "Dans aucun parcours pour l’instant.",
        "Outcome": "Résultat",
    }
)

# A flow definition's refusals, as patterns (web/error_sentences.py): "step 2 (wait): …",
# "trigger: …", "flow: …" say where; the sentence after the colon is a pattern of its own.
FR.update(
    {
        "trigger": "déclencheur",
        "flow": "parcours",
        "wait": "attente",
        "send": "message",
        "condition": "condition",
        "active": "actif",
        "archived": "archivé",
        # the step's number and kind before the sentence, which is a pattern of its own
        "step %(n)s (%(code_kind)s): %(sentence)s": "étape %(n)s (%(code_kind)s) : %(sentence)s",
        "trigger: %(sentence)s": "déclencheur : %(sentence)s",
        "flow: %(sentence)s": "parcours : %(sentence)s",
        "%(code_where)s: expected a table of fields": (
            "%(code_where)s : un tableau de champs était attendu"
        ),
        "%(code_where)s: unknown field '%(raw_field)s' (known: %(raw_known)s)": (
            "%(code_where)s : champ inconnu « %(raw_field)s » (connus : %(raw_known)s)"
        ),
        "step %(n)s (%(code_kind)s): unknown field '%(raw_field)s' (known: %(raw_known)s)": (
            "étape %(n)s (%(code_kind)s) : champ inconnu « %(raw_field)s » (connus : %(raw_known)s)"
        ),
        "'%(raw_name)s' is required": "« %(raw_name)s » est obligatoire",
        "'%(raw_name)s' must be text": "« %(raw_name)s » doit être du texte",
        "'%(raw_name)s' contains a NUL character": "« %(raw_name)s » contient un caractère NUL",
        "'%(raw_name)s' has %(n)s characters; at most %(limit)s": (
            "« %(raw_name)s » a %(n)s caractères ; %(limit)s au plus"
        ),
        "'%(raw_name)s' must be true or false": "« %(raw_name)s » doit être vrai ou faux",
        "'%(raw_value)s' is not a %(raw_name)s (one of %(raw_known)s)": (
            "« %(raw_value)s » n’est pas un %(raw_name)s valable (parmi %(raw_known)s)"
        ),
        "a number and a unit m, h, d or w, possibly several (90m, 2h, 3d, 1d12h, 2w)": (
            "un nombre et une unité m, h, d ou w, éventuellement plusieurs (90m, 2h, 3d, 1d12h, 2w)"
        ),
        "'%(raw_value)s' is not a duration: %(rule)s, at most 2 years": (
            "« %(raw_value)s » n’est pas une durée : %(rule)s, 2 ans au plus"
        ),
        "'%(raw_value)s' is not a duration after '%(raw_sign)s': %(rule)s": (
            "« %(raw_value)s » n’est pas une durée après « %(raw_sign)s » : %(rule)s"
        ),
        "%(raw_value)s is not a local time like 10:00 (00:00 to 23:59)": (
            "%(raw_value)s n’est pas une heure locale comme 10:00 (de 00:00 à 23:59)"
        ),
        "%(code_field)s: %(raw_value)s is not a local time like 10:00 (00:00 to 23:59)": (
            "%(code_field)s : %(raw_value)s n’est pas une heure locale comme 10:00 (de 00:00 "
            "à 23:59)"
        ),
        "step %(n)s (%(code_kind)s): %(raw_value)s is not a local time like 10:00 (00:00 to "
        "23:59)": (
            "étape %(n)s (%(code_kind)s) : %(raw_value)s n’est pas une heure locale comme 10:00 "
            "(de 00:00 à 23:59)"
        ),
        "the template does not read: %(sentence)s": "le modèle ne se lit pas : %(sentence)s",
        "only an SMS asks a question: the answers come back by SMS": (
            "seul un SMS pose une question : les réponses reviennent par SMS"
        ),
        "the segment expression does not read: %(sentence)s": (
            "l’expression de segment ne se lit pas : %(sentence)s"
        ),
        "'%(raw_key)s' is not a property name": "« %(raw_key)s » n’est pas un nom de propriété",
        "'%(raw_name)s' is not an attribute name": "« %(raw_name)s » n’est pas un nom d’attribut",
        "'at' applies to yearly dates (set the hour on a wait step)": (
            "« at » ne vaut que pour les dates annuelles (mettez l’heure sur une étape d’attente)"
        ),
        '"%(raw_text)s" is not an event type: 1 to 64 letters, digits, "_", "." or "-", '
        "starting with a letter or digit (e.g. order_shipped)": (
            "« %(raw_text)s » n’est pas un type d’événement : 1 à 64 lettres, chiffres, « _ », "
            "« . » ou « - », commençant par une lettre ou un chiffre (p. ex. order_shipped)"
        ),
        '%(code_field)s: "%(raw_text)s" is not an event type: 1 to 64 letters, digits, '
        '"_", "." or "-", starting with a letter or digit (e.g. order_shipped)': (
            "%(code_field)s : « %(raw_text)s » n’est pas un type d’événement : 1 à 64 lettres, "
            "chiffres, « _ », « . » ou « - », commençant par une lettre ou un chiffre (p. ex. "
            "order_shipped)"
        ),
        "'%(raw_value)s' does not name a date: an attribute or event property (appointment_at, "
        "event.delivery_at), optionally +/- a duration": (
            "« %(raw_value)s » ne nomme pas une date : un attribut ou une propriété "
            "d’événement (appointment_at, event.delivery_at), éventuellement +/- une durée"
        ),
        "give either 'duration' (2h, 3d) or 'until' (a date - 24h)": (
            "donnez soit « duration » (2h, 3d), soit « until » (une date - 24h)"
        ),
        "'%(raw_name)s' applies to emails only": "« %(raw_name)s » ne vaut que pour les e-mails",
        "a message stays valid at least 5m": "un message reste valable 5m au moins",
        "'%(raw_value)s' is not a question a message asks (one of %(raw_known)s)": (
            "« %(raw_value)s » n’est pas une question qu’un message pose (parmi %(raw_known)s)"
        ),
        "'steps' is a list of at least one step": "« steps » est une liste d’au moins une étape",
        "%(n)s steps; at most %(limit)s": "%(n)s étapes ; %(limit)s au plus",
        "a flow needs at least one send step": "un parcours a besoin d’au moins une étape message",
        "'exit_on' is a list of event types": "« exit_on » est une liste de types d’événements",
        "step %(n)s: %(raw_kind)s is not a kind of step (one of %(raw_known)s)": (
            "étape %(n)s : %(raw_kind)s n’est pas un genre d’étape (parmi %(raw_known)s)"
        ),
        "step %(n)s: 'kind' is required (one of %(raw_known)s)": (
            "étape %(n)s : « kind » est obligatoire (parmi %(raw_known)s)"
        ),
        "step %(n)s (wait): 'event.%(raw_name)s' needs an event trigger": (
            "étape %(n)s (attente) : « event.%(raw_name)s » demande un déclencheur événement"
        ),
        "the flow file is not valid TOML: %(raw_error)s": (
            "le fichier du parcours n’est pas du TOML valable : %(raw_error)s"
        ),
        "no flow %(raw_name)s": "aucun parcours %(raw_name)s",
        "flow %(raw_name)s has no version %(n)s": (
            "le parcours %(raw_name)s n’a pas de version %(n)s"
        ),
        "name: a flow named %(raw_name)s exists already": (
            "nom : un parcours nommé %(raw_name)s existe déjà"
        ),
        "flow %(raw_name)s is archived: it takes no new version": (
            "le parcours %(raw_name)s est archivé : il ne prend plus de nouvelle version"
        ),
        "flow %(raw_name)s is %(code_state)s: it cannot become %(code_target)s": (
            "le parcours %(raw_name)s est %(code_state)s : il ne peut pas devenir %(code_target)s"
        ),
        "the contact has no phone number": "le contact n’a pas de numéro de téléphone",
        "choose a contact to preview the flow for": "choisissez un contact pour l’aperçu",
        # the preview's notes on the trigger and on the steps where an occurrence would end
        "no %(raw_type)s event yet: shown with empty properties": (
            "pas encore d’événement %(raw_type)s : affiché avec des propriétés vides"
        ),
        "as for its latest %(raw_type)s event (%(raw_at)s UTC)": (
            "comme pour son dernier événement %(raw_type)s (%(raw_at)s UTC)"
        ),
        "the contact has no date in %(raw_name)s": "le contact n’a pas de date dans %(raw_name)s",
        "on its next anniversary (%(raw_at)s)": "à son prochain anniversaire (%(raw_at)s)",
        "as if the contact confirmed %(code_channel)s marketing consent now": (
            "comme si le contact confirmait maintenant son consentement marketing %(code_channel)s"
        ),
        "as if the contact entered the segment now": (
            "comme si le contact entrait maintenant dans le segment"
        ),
        "the contact is not in '%(raw_segment)s'": "le contact n’est pas dans « %(raw_segment)s »",
        "step %(n)s (wait): no date in '%(raw_name)s'": (
            "étape %(n)s (attente) : aucune date dans « %(raw_name)s »"
        ),
        "step %(n)s (wait): %(raw_name)s has passed (%(raw_at)s)": (
            "étape %(n)s (attente) : %(raw_name)s est passé (%(raw_at)s)"
        ),
    }
)
